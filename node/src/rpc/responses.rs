//! The API's answers about blocks, built from the node's [`Block`] (the response types are
//! `trestle-api`'s; the block type is the node's).

use commonware_codec::{Encode as _, EncodeSize as _};
use commonware_cryptography::Digestible as _;
use trestle_api::{
    AbsenceProofResponse, BlockResponse, BlockSummaryResponse, HeaderResponse,
    NamespaceProofResponse, NamespaceResponse, NamespaceSummary, TransactionResponse,
};
use trestle_light_client::Namespace;

use crate::{
    application::{NamespaceContents, namespace_contents},
    block::{Block, BlockTransaction, authorizations_hash, b256_from_digest},
};

/// A transaction as the API shows it, with its owner's authorization.
pub fn transaction(tx: &BlockTransaction) -> TransactionResponse {
    TransactionResponse::new(&tx.transaction, tx.authorization.as_ref())
}

/// A finalized block as the API shows it.
pub fn block(block: &Block) -> BlockResponse {
    BlockResponse {
        header: HeaderResponse::new(block.header()),
        digest: b256_from_digest(&block.digest()),
        parent_digest: b256_from_digest(&block.parent_digest()),
        l1_block: block.succession().l1.number,
        l1_hash: block.succession().l1.hash,
        next_committee: block.succession().next_committee.as_ref().map(|c| c.commitment()),
        succession_hash: block.succession().hash(),
        authorizations_hash: authorizations_hash(block.transactions()),
        context_hash: block.context_hash(),
        transactions: block.transactions().iter().map(transaction).collect(),
        encoded: block.encode().to_vec().into(),
    }
}

/// `block` without its payloads.
pub fn block_summary(block: &Block) -> BlockSummaryResponse {
    let mut namespaces: std::collections::BTreeMap<u64, NamespaceSummary> = Default::default();
    for tx in block.transactions() {
        let namespace = tx.transaction.namespace.get();
        let entry = namespaces.entry(namespace).or_insert(NamespaceSummary {
            namespace,
            transactions: 0,
            payload_bytes: 0,
        });
        entry.transactions += 1;
        entry.payload_bytes += tx.transaction.payload.len() as u64;
    }
    BlockSummaryResponse {
        header: HeaderResponse::new(block.header()),
        digest: b256_from_digest(&block.digest()),
        transactions: block.transactions().len() as u64,
        payload_bytes: block.payload_bytes() as u64,
        encoded_bytes: block.encode_size() as u64,
        namespaces: namespaces.into_values().collect(),
    }
}

/// A namespace's part of `block`: its transactions and proof, or the proof that it has none
/// (`None` only if the block's payload tree cannot be built, which a finalized block's can).
pub fn namespace(block: &Block, namespace: Namespace) -> Option<NamespaceResponse> {
    let header = HeaderResponse::new(block.header());
    Some(match namespace_contents(block, namespace)? {
        NamespaceContents::Present { proof, transactions } => NamespaceResponse {
            header,
            namespace: namespace.get(),
            transactions: transactions.iter().map(transaction).collect(),
            proof: Some(NamespaceProofResponse::new(&proof)),
            absence_proof: None,
        },
        NamespaceContents::Absent(proof) => NamespaceResponse {
            header,
            namespace: namespace.get(),
            transactions: Vec::new(),
            proof: None,
            absence_proof: Some(AbsenceProofResponse::new(&proof)),
        },
    })
}
