//! The demo's L1 settlement check (hybrid mode): the first rollup's `RollupSettlement` on the
//! L1 accepts the state root of a rollup block only with a proof that trestle confirmed that
//! block, against a history root the L1's `LightClient` knows.
//!
//! The relayer posts every rollup block as a record, and proves trestle's states to the L1's
//! light client; the demo waits for a record under a root the light client has, submits the
//! block's real state root (read from the rollup's anvil) with the record's proof, and checks
//! that the same call with an altered block hash, or for a block trestle did not confirm, is
//! refused with `BlockNotConfirmed`.

use std::time::{Duration, Instant};

use alloy::{
    primitives::{Address, B256},
    providers::{DynProvider, Provider as _},
    rpc::types::BlockNumberOrTag,
    sol_types::SolValue as _,
};
use anyhow::{Context as _, bail};
use jsonrpsee::http_client::HttpClient;
use trestle_api::{TrestleApiClient as _, records::BlockRecordResponse};
use trestle_relayer::bindings::{LightClient, settlement::RollupSettlement};

use super::{
    chains::{self, ANVIL_DEV_KEY, DevnetChain},
    files::DevnetFile,
    messages::{self, SettlementRecord},
};

/// How long the demo waits for a record under a root the L1 light client knows.
const WAIT: Duration = Duration::from_secs(180);

/// Runs the settlement demo on the devnet's L1, if it has one with a settlement contract.
pub(crate) async fn demo(devnet: &DevnetFile) -> anyhow::Result<Option<SettlementRecord>> {
    let Some((l1, settlement)) =
        devnet.chains.iter().find_map(|c| c.contracts.rollup_settlement.map(|s| (c, s)))
    else {
        return Ok(None);
    };
    let rollup_chain = chains::DEVNET_EVM_CHAIN_IDS[0];
    let rollup = devnet
        .chains
        .iter()
        .find(|c| c.chain_id == rollup_chain)
        .context("the devnet lists no first rollup")?;
    let rpc = devnet.validators.first().context("no validator")?.rpc_url.as_str();
    let client = trestle_api::client::connect(rpc, Duration::from_secs(10))?;
    let provider = messages::wallet(l1, ANVIL_DEV_KEY)?;
    let namespace = chains::block_namespace(rollup_chain);
    let found = proven_record(&client, &provider, l1, settlement, namespace).await?;
    let (record, proof) = found.record_proof().context("the node's record proof")?;
    let proof = RollupSettlement::RecordProof::abi_decode(&proof.abi_encode())
        .context("the record proof as the contract's type")?;
    let block = messages::wallet(rollup, ANVIL_DEV_KEY)?
        .get_block_by_number(BlockNumberOrTag::Number(record.number))
        .await?
        .with_context(|| format!("rollup block {} is not on its anvil", record.number))?;
    if block.header.hash != record.hash {
        bail!(
            "rollup block {} is {}, its record says {}",
            record.number,
            block.header.hash,
            record.hash
        );
    }
    let state_root = block.header.state_root;
    let contract = RollupSettlement::new(settlement, provider.clone());

    let refused = |result: Result<_, alloy::contract::Error>| {
        result
            .err()
            .and_then(|e| e.as_decoded_error::<RollupSettlement::BlockNotConfirmed>())
            .is_some()
    };
    let altered = B256::from(record.hash.0.map(|b| b ^ 0x01));
    let call = contract.submitStateRoot(
        record.number,
        altered,
        record.parentHash,
        state_root,
        proof.clone(),
    );
    let refused_altered = refused(call.call().await.map(|_| ()));
    let unconfirmed = record.number.saturating_add(1_000);
    let call = contract.submitStateRoot(
        unconfirmed,
        record.hash,
        record.parentHash,
        state_root,
        proof.clone(),
    );
    let refused_unconfirmed = refused(call.call().await.map(|_| ()));

    let receipt = contract
        .submitStateRoot(record.number, record.hash, record.parentHash, state_root, proof)
        .send()
        .await?
        .get_receipt()
        .await?;
    if !receipt.status() {
        bail!("RollupSettlement.submitStateRoot reverted in tx {}", receipt.transaction_hash);
    }
    let accepted = contract.stateRootOf(record.number).call().await?;
    if accepted != state_root {
        bail!("RollupSettlement holds {accepted} for block {}, not {state_root}", record.number);
    }
    eprintln!(
        "\nsettlement on {}: rollup {} block {} ({}) confirmed at trestle height {}; \
         RollupSettlement {} accepted its state root {} in tx {}",
        l1.name,
        rollup_chain,
        record.number,
        record.hash,
        found.height,
        settlement,
        state_root,
        receipt.transaction_hash
    );
    let verdict =
        |refused: bool| if refused { "refused (BlockNotConfirmed)" } else { "NOT refused" };
    eprintln!(
        "settlement with an altered block hash: {}; for unconfirmed block {unconfirmed}: {}",
        verdict(refused_altered),
        verdict(refused_unconfirmed)
    );
    Ok(Some(SettlementRecord {
        l1_chain: l1.chain_id,
        rollup_chain,
        number: record.number,
        block_hash: record.hash,
        trestle_height: found.height,
        root_height: found.history.root_height,
        state_root,
        tx: receipt.transaction_hash,
        refused_altered,
        refused_unconfirmed,
    }))
}

/// The newest confirmed record of `namespace` under a history root the L1 light client knows
/// whose block `settlement` has not accepted yet (a resumed devnet settled some in earlier runs),
/// with its proofs up to that root; waits up to [`WAIT`] for one.
async fn proven_record(
    client: &HttpClient,
    provider: &DynProvider,
    l1: &DevnetChain,
    settlement: Address,
    namespace: u64,
) -> anyhow::Result<BlockRecordResponse> {
    let light_client = LightClient::new(l1.contracts.light_client, provider.clone());
    let settlement = RollupSettlement::new(settlement, provider.clone());
    let started = Instant::now();
    loop {
        let proven = light_client.latestHeight().call().await?;
        if let Some(range) = client.record_namespace(namespace).await?.confirmed {
            // Newest first: records confirmed at or below the proven height qualify.
            for number in (range.first..=range.last).rev().take(64) {
                let Some(found) = client.block_record(namespace, number, None).await? else {
                    continue;
                };
                if found.height <= proven && settlement.stateRootOf(number).call().await?.is_zero()
                {
                    let proven = client.block_record(namespace, number, Some(proven)).await?;
                    return proven.context("the record vanished");
                }
            }
        }
        if started.elapsed() > WAIT {
            bail!(
                "no record of namespace {namespace} under a root the L1 light client ({}) knows \
                 after {WAIT:?}",
                address(l1)
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn address(chain: &DevnetChain) -> Address {
    chain.contracts.light_client
}
