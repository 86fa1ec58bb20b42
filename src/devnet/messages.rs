//! Cross-chain messages on a devnet: send one from a chain's `Mailbox` to the demo `Counter` on
//! another chain and watch for its delivery there. The devnet's demo message, its end-to-end
//! tests and the `e2e` benchmark all go through here.

use std::time::{Duration, Instant};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, Bytes, TxHash, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::Filter,
    signers::local::PrivateKeySigner,
};
use alloy_sol_types::{SolEvent as _, SolValue as _};
use serde::{Deserialize, Serialize};
use trestle_relayer::bindings::{Counter, Mailbox};

use super::chains::DevnetChain;

/// Why sending or watching a message failed.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// The chain's RPC URL or the sender's key is unusable.
    #[error("{0}")]
    Setup(String),
    /// A request to the chain failed.
    #[error("chain {chain}: {message}")]
    Chain {
        /// The chain id.
        chain: u64,
        /// What went wrong.
        message: String,
    },
    /// `Mailbox.send` was mined but reverted, or emitted no `MessageSent`.
    #[error("chain {chain}: Mailbox.send in {tx}: {message}")]
    Send {
        /// The chain id.
        chain: u64,
        /// The transaction.
        tx: TxHash,
        /// What is wrong with it.
        message: String,
    },
    /// The message was not delivered in time.
    #[error("message {hash} not delivered on chain {chain} within {waited:?}")]
    NotDelivered {
        /// The destination chain id.
        chain: u64,
        /// The message.
        hash: B256,
        /// How long it was waited for.
        waited: Duration,
    },
}

fn chain_error(chain: u64) -> impl Fn(String) -> MessageError {
    move |message| MessageError::Chain { chain, message }
}

/// A provider for `chain` that signs with `key` (`0x` + 32 bytes hex).
pub fn wallet(chain: &DevnetChain, key: &str) -> Result<DynProvider, MessageError> {
    let signer: PrivateKeySigner =
        key.parse().map_err(|e| MessageError::Setup(format!("EVM key: {e}")))?;
    let url = chain
        .rpc_url
        .parse()
        .map_err(|e| MessageError::Setup(format!("{}: {e}", chain.rpc_url)))?;
    Ok(ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url).erased())
}

/// A message sent with `Mailbox.send`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentMessage {
    /// `keccak256(abi.encode(message))`, the message's hash in the mailboxes' events.
    pub hash: B256,
    /// The message (its `abi.encode` is the payload of its trestle transaction).
    pub message: Mailbox::Message,
    /// The `send` transaction.
    pub tx: TxHash,
    /// Its block on the source chain.
    pub block: u64,
    /// When its receipt arrived here.
    pub sent_at: Instant,
}

impl SentMessage {
    /// The trestle transaction payload that carries the message (`abi.encode(message)`).
    pub fn encoded(&self) -> Vec<u8> {
        self.message.abi_encode()
    }
}

/// The gas the recipient's `onMessage` gets with the devnet's messages: ample for the demo
/// `Counter` (a few storage writes), far below the mailboxes' `maxGasLimit`.
pub const MESSAGE_GAS_LIMIT: u64 = 200_000;

/// Sends `payload` from `from`'s `Mailbox` to `recipient` on `to` (through `to`'s mailbox, with
/// [`MESSAGE_GAS_LIMIT`]), paid by `provider` (see [`wallet`]); returns once the transaction is
/// mined.
pub async fn send(
    provider: &DynProvider,
    from: &DevnetChain,
    to: &DevnetChain,
    recipient: Address,
    payload: &[u8],
) -> Result<SentMessage, MessageError> {
    let mailbox = Mailbox::new(from.contracts.mailbox, provider.clone());
    let receipt = mailbox
        .send(
            to.chain_id,
            to.contracts.mailbox,
            recipient,
            0,
            MESSAGE_GAS_LIMIT,
            Bytes::copy_from_slice(payload),
        )
        .send()
        .await
        .map_err(|e| MessageError::Chain { chain: from.chain_id, message: e.to_string() })?
        .with_timeout(Some(Duration::from_secs(60)))
        .get_receipt()
        .await
        .map_err(|e| MessageError::Chain { chain: from.chain_id, message: e.to_string() })?;
    let sent_at = Instant::now();
    let tx = receipt.transaction_hash;
    let send_error = |message: &str| MessageError::Send {
        chain: from.chain_id,
        tx,
        message: message.to_owned(),
    };
    if !receipt.status() {
        return Err(send_error("reverted"));
    }
    let event = receipt
        .inner
        .logs()
        .iter()
        .filter(|log| log.address() == from.contracts.mailbox)
        .find_map(|log| Mailbox::MessageSent::decode_log(&log.inner).ok())
        .ok_or_else(|| send_error("no MessageSent event"))?;
    Ok(SentMessage {
        hash: event.data.messageHash,
        message: event.data.message.clone(),
        tx,
        block: receipt.block_number.unwrap_or_default(),
        sent_at,
    })
}

/// Where a message was delivered (or received with a failing recipient).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// The `Mailbox.deliver` transaction.
    pub tx: TxHash,
    /// Its block on the destination chain.
    pub block: u64,
}

/// Every `MessageDelivered` of `chain`'s mailbox for `hash` (at most one, by the contract's
/// replay protection; tests count them), or for every message.
pub async fn deliveries(
    provider: &DynProvider,
    chain: &DevnetChain,
    hash: Option<B256>,
) -> Result<Vec<Delivery>, MessageError> {
    mailbox_events(provider, chain, Mailbox::MessageDelivered::SIGNATURE_HASH, hash).await
}

/// Every `MessageFailed` of `chain`'s mailbox for `hash` (or for every message): received, but
/// the recipient failed, so the mailbox stored the message for `retry`.
pub async fn failures(
    provider: &DynProvider,
    chain: &DevnetChain,
    hash: Option<B256>,
) -> Result<Vec<Delivery>, MessageError> {
    mailbox_events(provider, chain, Mailbox::MessageFailed::SIGNATURE_HASH, hash).await
}

/// The transactions of `chain`'s mailbox that emitted `event` (whose first topic after the
/// signature is the message hash) for `hash`, or for every message.
async fn mailbox_events(
    provider: &DynProvider,
    chain: &DevnetChain,
    event: B256,
    hash: Option<B256>,
) -> Result<Vec<Delivery>, MessageError> {
    let mut filter =
        Filter::new().address(chain.contracts.mailbox).event_signature(event).from_block(0);
    if let Some(hash) = hash {
        filter = filter.topic1(hash);
    }
    let logs =
        provider.get_logs(&filter).await.map_err(|e| chain_error(chain.chain_id)(e.to_string()))?;
    Ok(logs
        .iter()
        .map(|log| Delivery {
            tx: log.transaction_hash.unwrap_or_default(),
            block: log.block_number.unwrap_or_default(),
        })
        .collect())
}

/// Polls `chain` until `hash` is delivered there, for at most `limit`.
pub async fn wait_delivered(
    provider: &DynProvider,
    chain: &DevnetChain,
    hash: B256,
    limit: Duration,
) -> Result<Delivery, MessageError> {
    let started = Instant::now();
    loop {
        if let Some(delivery) = deliveries(provider, chain, Some(hash)).await?.into_iter().next() {
            return Ok(delivery);
        }
        if started.elapsed() > limit {
            return Err(MessageError::NotDelivered { chain: chain.chain_id, hash, waited: limit });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `Counter.total()` of `chain`'s demo counter: messages it has executed.
pub async fn counter_total(
    provider: &DynProvider,
    chain: &DevnetChain,
) -> Result<U256, MessageError> {
    Counter::new(chain.contracts.counter, provider.clone())
        .total()
        .call()
        .await
        .map_err(|e| chain_error(chain.chain_id)(e.to_string()))
}

/// The devnet's demo message, as `devnet.json` records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoRecord {
    /// Source chain id.
    pub from_chain: u64,
    /// Destination chain id.
    pub to_chain: u64,
    /// The message hash.
    pub message_hash: B256,
    /// `Mailbox.send` on the source chain.
    pub sent_tx: TxHash,
    /// Its block.
    pub sent_block: u64,
    /// `Mailbox.deliver` on the destination chain, once delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<Delivery>,
    /// From the send's receipt to the delivery's being seen (ms), once delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// `Counter.total()` on the destination after the delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter_total: Option<String>,
    /// The L1 settlement check of a rollup block (devnets with an L1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement: Option<SettlementRecord>,
}

/// What the settlement demo did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettlementRecord {
    /// The L1's chain id.
    pub l1_chain: u64,
    /// The rollup whose block settled.
    pub rollup_chain: u64,
    /// The rollup block.
    pub number: u64,
    /// Its hash.
    pub block_hash: B256,
    /// Trestle height of the block that confirmed its record.
    pub trestle_height: u64,
    /// The trestle height whose history root the proof went up to (known to the L1).
    pub root_height: u64,
    /// The state root accepted (the rollup block's own).
    pub state_root: B256,
    /// The L1 transaction that settled it.
    pub tx: TxHash,
    /// Whether the same submission with an altered block hash was refused.
    pub refused_altered: bool,
    /// Whether a submission for a block trestle did not confirm was refused.
    pub refused_unconfirmed: bool,
}
