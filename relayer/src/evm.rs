//! The EVM side: one alloy HTTP provider per chain, contract handles, and the one way the
//! relayer sends transactions (EIP-1559 fees capped, one sender at a time, receipt checked).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use alloy::{
    contract::{CallBuilder, CallDecoder},
    network::EthereumWallet,
    primitives::{Address, TxHash},
    providers::{DynProvider, Provider, ProviderBuilder, utils::Eip1559Estimation},
    rpc::types::{BlockNumberOrTag, TransactionReceipt},
    signers::local::PrivateKeySigner,
    transports::http::reqwest::{self, Url},
};
use tokio::sync::Mutex;
use tracing::{debug, warn};

use crate::{
    bindings::{LightClient, Mailbox},
    config::ChainConfig,
};

/// How long a sent transaction (with its replacements) may take to be mined.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Longest one JSON-RPC request to an EVM chain may take. Without it a request whose
/// connection hangs would hold its loop for good (reqwest has no timeout by default); with it
/// the request fails and the loop retries.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why talking to an EVM chain failed.
#[derive(Debug, thiserror::Error)]
pub enum EvmError {
    /// The RPC URL does not parse.
    #[error("{chain}: bad RPC URL: {message}")]
    Url {
        /// The chain.
        chain: String,
        /// What is wrong.
        message: String,
    },
    /// The HTTP client could not be built (TLS initialization).
    #[error("{chain}: HTTP client: {message}")]
    HttpClient {
        /// The chain.
        chain: String,
        /// What failed.
        message: String,
    },
    /// A configured contract address has no code on the chain (a wrong address, or a chain
    /// that was reset since the deployment).
    #[error("{chain}: no contract at the configured {contract} address {address}")]
    NoCode {
        /// The chain.
        chain: String,
        /// Which configured contract (`mailbox`, `light_client`).
        contract: &'static str,
        /// The configured address.
        address: Address,
    },
    /// The endpoint serves another chain than configured.
    #[error("{chain}: the RPC endpoint serves chain {actual}, expected {expected}")]
    WrongChain {
        /// The chain.
        chain: String,
        /// The configured chain id.
        expected: u64,
        /// The endpoint's chain id.
        actual: u64,
    },
    /// A request failed (transport, node error).
    #[error("{chain}: rpc: {source}")]
    Rpc {
        /// The chain.
        chain: String,
        /// What the transport said (boxed: alloy's errors are large).
        source: Box<alloy::transports::TransportError>,
    },
    /// A contract call or transaction failed (including reverts seen at estimation).
    #[error("{chain}: contract: {source}")]
    Contract {
        /// The chain.
        chain: String,
        /// What alloy said (revert data, if any, is in here; boxed: alloy's errors are large).
        source: Box<alloy::contract::Error>,
    },
    /// The transaction was mined but reverted.
    #[error("{chain}: transaction {tx} reverted")]
    Reverted {
        /// The chain.
        chain: String,
        /// The transaction.
        tx: TxHash,
    },
    /// The gas price (`eth_gasPrice`) is above the configured cap; sending waits.
    #[error("{chain}: gas price {price} wei is above the cap of {cap} wei")]
    GasPriceAboveCap {
        /// The chain.
        chain: String,
        /// The current gas price.
        price: u128,
        /// The cap.
        cap: u128,
    },
    /// No version of a transaction was mined in time (each was replaced up to the cap).
    #[error("{chain}: the transaction at nonce {nonce} was not mined in time")]
    NotMined {
        /// The chain.
        chain: String,
        /// Its nonce.
        nonce: u64,
    },
    /// The account's nonce was used by a transaction this send did not make (one an earlier
    /// process sent, mined meanwhile): the step starts over.
    #[error("{chain}: nonce {nonce} was taken by another transaction of this account")]
    NonceTaken {
        /// The chain.
        chain: String,
        /// The nonce.
        nonce: u64,
    },
    /// The chain has no signer configured, so nothing can be sent.
    #[error("{chain}: no EVM key configured")]
    NoSigner {
        /// The chain.
        chain: String,
    },
}

impl EvmError {
    /// The contract error's revert data decoded as one of `E`'s errors, if it is one.
    pub fn revert<E: alloy_sol_types::SolInterface>(&self) -> Option<E> {
        match self {
            Self::Contract { source, .. } => source.as_decoded_interface_error::<E>(),
            _ => None,
        }
    }
}

/// A connection to one EVM chain (cheap to clone; clones share the provider and send lock).
#[derive(Clone, Debug)]
pub struct EvmChain {
    config: Arc<ChainConfig>,
    provider: DynProvider,
    /// The signer's address, if this chain has one.
    sender: Option<Address>,
    /// Held from sending a transaction until its receipt: the roles sharing this chain's key
    /// then never race for a nonce (each send takes the account's pending nonce afresh).
    send_lock: Arc<Mutex<()>>,
    /// Stuck transactions replaced so far.
    replacements: Arc<AtomicU64>,
}

impl EvmChain {
    /// Connects to `config.rpc`, signing with `signer` if given (no request is made yet).
    pub fn connect(
        config: Arc<ChainConfig>,
        signer: Option<PrivateKeySigner>,
    ) -> Result<Self, EvmError> {
        let url = Url::parse(&config.rpc)
            .map_err(|e| EvmError::Url { chain: config.name.clone(), message: e.to_string() })?;
        let sender = signer.as_ref().map(PrivateKeySigner::address);
        let http = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().map_err(|e| {
            EvmError::HttpClient { chain: config.name.clone(), message: e.to_string() }
        })?;
        let provider = match signer {
            Some(signer) => ProviderBuilder::new()
                .wallet(EthereumWallet::from(signer))
                .connect_reqwest(http, url)
                .erased(),
            None => ProviderBuilder::new().connect_reqwest(http, url).erased(),
        };
        Ok(Self {
            config,
            provider,
            sender,
            send_lock: Arc::new(Mutex::new(())),
            replacements: Arc::default(),
        })
    }

    /// The chain's configuration.
    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// The chain's name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The account paying for transactions here, if this chain has a signer.
    pub fn sender(&self) -> Option<Address> {
        self.sender
    }

    /// The provider.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The chain's `LightClient`.
    pub fn light_client(&self) -> LightClient::LightClientInstance<DynProvider> {
        LightClient::new(self.config.light_client, self.provider.clone())
    }

    /// The chain's `Mailbox`.
    pub fn mailbox(&self) -> Mailbox::MailboxInstance<DynProvider> {
        Mailbox::new(self.config.mailbox, self.provider.clone())
    }

    /// Wraps a transport error of this chain.
    pub fn rpc_error(&self, source: alloy::transports::TransportError) -> EvmError {
        EvmError::Rpc { chain: self.config.name.clone(), source: Box::new(source) }
    }

    /// Wraps a contract error of this chain.
    pub fn contract_error(&self, source: alloy::contract::Error) -> EvmError {
        EvmError::Contract { chain: self.config.name.clone(), source: Box::new(source) }
    }

    /// Checks that the endpoint serves the configured chain.
    pub async fn check_chain_id(&self) -> Result<(), EvmError> {
        let actual = self.provider.get_chain_id().await.map_err(|e| self.rpc_error(e))?;
        if actual != self.config.chain_id {
            return Err(EvmError::WrongChain {
                chain: self.config.name.clone(),
                expected: self.config.chain_id,
                actual,
            });
        }
        Ok(())
    }

    /// Checks the configuration against the chain: its endpoint serves the configured chain
    /// id ([`EvmError::WrongChain`]) and the mailbox and light client have code there
    /// ([`EvmError::NoCode`]).
    pub async fn check_deployment(&self) -> Result<(), EvmError> {
        self.check_chain_id().await?;
        for (contract, address) in
            [("mailbox", self.config.mailbox), ("light_client", self.config.light_client)]
        {
            let code = self.provider.get_code_at(address).await.map_err(|e| self.rpc_error(e))?;
            if code.is_empty() {
                return Err(EvmError::NoCode {
                    chain: self.config.name.clone(),
                    contract,
                    address,
                });
            }
        }
        Ok(())
    }

    /// The latest block number.
    pub async fn head(&self) -> Result<u64, EvmError> {
        self.provider.get_block_number().await.map_err(|e| self.rpc_error(e))
    }

    /// The number of the chain's `finalized` block: `None` if the endpoint has none (yet), an
    /// [`EvmError::Rpc`] if it does not know the tag.
    pub async fn finalized_head(&self) -> Result<Option<u64>, EvmError> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Finalized)
            .await
            .map_err(|e| self.rpc_error(e))?;
        Ok(block.map(|block| block.header.number))
    }

    /// Whether the endpoint serves the `finalized` block tag: `Some(true)` if it answers it
    /// with a block, `Some(false)` if it answers with an error (it does not know the tag),
    /// `None` if it answers with no block (it knows the tag but has finalized nothing yet: ask
    /// again later). A request that got no answer is an error.
    pub async fn serves_finalized(&self) -> Result<Option<bool>, EvmError> {
        match self.provider.get_block_by_number(BlockNumberOrTag::Finalized).await {
            Ok(Some(_)) => Ok(Some(true)),
            Ok(None) => Ok(None),
            Err(alloy::transports::RpcError::ErrorResp(_)) => Ok(Some(false)),
            Err(e) => Err(self.rpc_error(e)),
        }
    }

    /// Sends `call` as an EIP-1559 transaction once the gas price is under the cap, waits for
    /// its receipt and fails unless it succeeded. A revert found while estimating gas comes back
    /// as [`EvmError::Contract`] with its revert data (see [`EvmError::revert`]).
    ///
    /// `max_gas_price_wei` caps what any transaction may ever pay per gas: while
    /// `eth_gasPrice` (what a transaction pays now, base fee and tip) is above it, this returns
    /// [`EvmError::GasPriceAboveCap`] and the loop retries later; otherwise the transaction is
    /// sent with alloy's fee estimate clamped to the cap ([`capped_fees`]), so its
    /// `max_fee_per_gas` never exceeds the cap even if the base fee rises before inclusion.
    ///
    /// Stuck transactions are replaced. The nonce is the account's *mined* transaction count,
    /// so a transaction of ours still waiting at that nonce (one a crashed process sent, or one
    /// priced out by a rising base fee) is replaced rather than queued behind. A transaction
    /// not mined within `replace_after_ms` is sent again at the same nonce with both fees
    /// raised by at least [`BUMP_PERCENT`]% (or to the current estimate, if higher), never
    /// above the cap; a replacement the node refuses as underpriced is bumped again. Whichever
    /// of the sent versions is mined ends the wait. If the nonce is taken meanwhile by a
    /// transaction this call did not send (one a crashed process left in the pool, mined after
    /// all), the call starts over at the next nonce, up to [`NONCE_ATTEMPTS`] times, then fails
    /// with [`EvmError::NonceTaken`]: estimating it again tells whether it is still needed (a
    /// revert such as `AlreadyReceived` if the other transaction did the same work).
    pub async fn send<D: CallDecoder + Clone>(
        &self,
        call: CallBuilder<&DynProvider, D>,
    ) -> Result<TransactionReceipt, EvmError> {
        let Some(sender) = self.sender else {
            return Err(EvmError::NoSigner { chain: self.config.name.clone() });
        };
        let _guard = self.send_lock.lock().await;
        let mut attempt = 1;
        loop {
            match self.send_at_next_nonce(call.clone(), sender).await {
                Err(EvmError::NonceTaken { .. }) if attempt < NONCE_ATTEMPTS => {
                    debug!(chain = self.name(), attempt, "nonce taken meanwhile; sending again");
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    /// One attempt of [`EvmChain::send`], under its lock, at the account's mined nonce.
    async fn send_at_next_nonce<D: CallDecoder + Clone>(
        &self,
        call: CallBuilder<&DynProvider, D>,
        sender: Address,
    ) -> Result<TransactionReceipt, EvmError> {
        // Asked afresh under the lock, never from a provider's cache: alloy's nonce cache
        // advances even when the gas estimate then fails (a revert), leaving a gap.
        let nonce = self
            .provider
            .get_transaction_count(sender)
            .latest()
            .await
            .map_err(|e| self.rpc_error(e))?;
        let cap = self.config.max_gas_price_wei;
        let price = self.provider.get_gas_price().await.map_err(|e| self.rpc_error(e))?;
        if price > cap {
            return Err(EvmError::GasPriceAboveCap { chain: self.config.name.clone(), price, cap });
        }
        let mut fees = capped_fees(self.fee_estimate().await?, cap);
        let call = call.from(sender).nonce(nonce);
        let replace_after = Duration::from_millis(self.config.replace_after_ms);
        let deadline = tokio::time::Instant::now() + RECEIPT_TIMEOUT;
        let mut sent: Vec<TxHash> = Vec::new();
        let mut send_now = true;
        loop {
            if send_now {
                let attempt = call
                    .clone()
                    .max_fee_per_gas(fees.max_fee_per_gas)
                    .max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
                match attempt.send().await {
                    Ok(pending) => {
                        if !sent.is_empty() {
                            self.replacements.fetch_add(1, Ordering::Relaxed);
                            warn!(chain = self.name(), nonce, max_fee = fees.max_fee_per_gas,
                                tx = %pending.tx_hash(), "replaced a stuck transaction");
                        }
                        sent.push(*pending.tx_hash());
                    }
                    Err(e) if is_underpriced(&e) => {
                        // A transaction of ours waits at this nonce with higher fees (sent by
                        // an earlier process): outbid it, within the cap.
                        let next = bumped(fees, cap);
                        if next == fees {
                            return Err(self.contract_error(e));
                        }
                        fees = next;
                        continue;
                    }
                    Err(e) if sent.is_empty() && is_nonce_too_low(&e) => {
                        return Err(EvmError::NonceTaken {
                            chain: self.config.name.clone(),
                            nonce,
                        });
                    }
                    Err(e) if sent.is_empty() => return Err(self.contract_error(e)),
                    // A replacement refused for another reason (say the nonce was just mined):
                    // the versions already sent are still what the wait is about.
                    Err(e) => warn!(chain = self.name(), nonce, error = %e,
                        "a replacement was refused; waiting for the versions sent"),
                }
            }
            if let Some(receipt) = self.wait_mined(&sent, nonce, sender, replace_after).await? {
                if !receipt.status() {
                    return Err(EvmError::Reverted {
                        chain: self.config.name.clone(),
                        tx: receipt.transaction_hash,
                    });
                }
                return Ok(receipt);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(EvmError::NotMined { chain: self.config.name.clone(), nonce });
            }
            let next = bumped(fees, cap).max_with(capped_fees(self.fee_estimate().await?, cap));
            send_now = next != fees;
            fees = next;
        }
    }

    /// alloy's EIP-1559 fee estimate.
    async fn fee_estimate(&self) -> Result<Eip1559Estimation, EvmError> {
        self.provider.estimate_eip1559_fees().await.map_err(|e| self.rpc_error(e))
    }

    /// Waits up to `wait` for one of `sent` (versions of one transaction at `nonce`) to be
    /// mined: its receipt, or `None` if none was. Fails with [`EvmError::NonceTaken`] when the
    /// account's nonce moved past `nonce` without any of them.
    async fn wait_mined(
        &self,
        sent: &[TxHash],
        nonce: u64,
        sender: Address,
        wait: Duration,
    ) -> Result<Option<TransactionReceipt>, EvmError> {
        let until = tokio::time::Instant::now() + wait;
        // Quick at first (a local chain mines at once), then every RECEIPT_POLL.
        let mut pause = Duration::from_millis(20);
        loop {
            for hash in sent {
                let receipt = self
                    .provider
                    .get_transaction_receipt(*hash)
                    .await
                    .map_err(|e| self.rpc_error(e))?;
                if receipt.is_some() {
                    return Ok(receipt);
                }
            }
            let mined = self
                .provider
                .get_transaction_count(sender)
                .latest()
                .await
                .map_err(|e| self.rpc_error(e))?;
            if mined > nonce {
                // Mined between our receipt queries and this count? A node may also count the
                // nonce a moment before it serves the receipt (seen with anvil under load):
                // look again for a while before calling the nonce someone else's. Calling our
                // own mined transaction someone else's would send the work again, and report
                // it undone.
                let settle = tokio::time::Instant::now() + RECEIPT_SETTLE;
                loop {
                    for hash in sent {
                        if let Some(receipt) = self
                            .provider
                            .get_transaction_receipt(*hash)
                            .await
                            .map_err(|e| self.rpc_error(e))?
                        {
                            return Ok(Some(receipt));
                        }
                    }
                    if tokio::time::Instant::now() >= settle {
                        return Err(EvmError::NonceTaken {
                            chain: self.config.name.clone(),
                            nonce,
                        });
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            if tokio::time::Instant::now() >= until {
                return Ok(None);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(RECEIPT_POLL);
        }
    }

    /// How many stuck transactions this chain's sends replaced (since start).
    pub fn replacements(&self) -> u64 {
        self.replacements.load(Ordering::Relaxed)
    }
}

/// The least a replacement raises both fees by, in percent (nodes require at least 10%).
pub const BUMP_PERCENT: u128 = 13;

/// How long a receipt is looked for once the account's nonce moved past the transaction's,
/// before the nonce is taken to be another transaction's.
const RECEIPT_SETTLE: Duration = Duration::from_secs(2);

/// How often a sent transaction's receipt is asked for, at the slowest (from 20 ms, doubling).
const RECEIPT_POLL: Duration = Duration::from_millis(500);

/// How many nonces one [`EvmChain::send`] tries when each is taken by another transaction.
pub const NONCE_ATTEMPTS: usize = 3;

/// Whether a node refused a transaction for a nonce already used.
fn is_nonce_too_low(error: &alloy::contract::Error) -> bool {
    error.to_string().to_ascii_lowercase().contains("nonce too low")
}

/// Whether a node refused a transaction as an underpriced replacement of one it holds (or as
/// one it holds already).
fn is_underpriced(error: &alloy::contract::Error) -> bool {
    let text = error.to_string().to_ascii_lowercase();
    text.contains("underpriced") || text.contains("already known")
}

/// `fees` raised by [`BUMP_PERCENT`]% (at least 1 wei each), clamped to `cap` as
/// [`capped_fees`] does.
pub fn bumped(fees: Eip1559Estimation, cap: u128) -> Eip1559Estimation {
    // value × 13/100 without overflow: whole hundreds, then the remainder.
    let raise = |value: u128| {
        let bump = (value / 100).saturating_mul(BUMP_PERCENT) + (value % 100) * BUMP_PERCENT / 100;
        value.saturating_add(bump.max(1))
    };
    capped_fees(
        Eip1559Estimation {
            max_fee_per_gas: raise(fees.max_fee_per_gas),
            max_priority_fee_per_gas: raise(fees.max_priority_fee_per_gas),
        },
        cap,
    )
}

/// The larger of two fee pairs, field by field.
trait MaxWith {
    fn max_with(self, other: Self) -> Self;
}

impl MaxWith for Eip1559Estimation {
    fn max_with(self, other: Self) -> Self {
        Self {
            max_fee_per_gas: self.max_fee_per_gas.max(other.max_fee_per_gas),
            max_priority_fee_per_gas: self
                .max_priority_fee_per_gas
                .max(other.max_priority_fee_per_gas),
        }
    }
}

/// `estimate` with `max_fee_per_gas` clamped to `cap` and `max_priority_fee_per_gas` to the
/// resulting max fee (a tip above the max fee is invalid).
pub fn capped_fees(estimate: Eip1559Estimation, cap: u128) -> Eip1559Estimation {
    let max_fee_per_gas = estimate.max_fee_per_gas.min(cap);
    Eip1559Estimation {
        max_fee_per_gas,
        max_priority_fee_per_gas: estimate.max_priority_fee_per_gas.min(max_fee_per_gas),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fees(max_fee_per_gas: u128, max_priority_fee_per_gas: u128) -> Eip1559Estimation {
        Eip1559Estimation { max_fee_per_gas, max_priority_fee_per_gas }
    }

    #[test]
    fn a_bump_raises_both_fees_by_thirteen_percent_within_the_cap() {
        assert_eq!(bumped(fees(100, 10), 1_000), fees(113, 11));
        // At least one wei, so that a replacement always differs.
        assert_eq!(bumped(fees(1, 0), 1_000), fees(2, 1));
        // Clamped to the cap, the tip to the max fee; at the cap a bump changes nothing.
        assert_eq!(bumped(fees(950, 900), 1_000), fees(1_000, 1_000));
        assert_eq!(bumped(fees(1_000, 1_000), 1_000), fees(1_000, 1_000));
        assert_eq!(bumped(fees(u128::MAX, u128::MAX), u128::MAX), fees(u128::MAX, u128::MAX));
        for (max_fee, tip) in [(7, 3), (1 << 40, 1 << 30), (u128::MAX / 2, 5)] {
            let next = bumped(fees(max_fee, tip), u128::MAX);
            // Nodes accept a replacement raising both fees by 10%.
            assert!(next.max_fee_per_gas >= max_fee + max_fee / 10);
            assert!(next.max_priority_fee_per_gas >= tip + tip / 10);
        }
    }

    #[test]
    fn fees_under_the_cap_are_kept() {
        assert_eq!(capped_fees(fees(50, 2), 100), fees(50, 2));
        assert_eq!(capped_fees(fees(100, 100), 100), fees(100, 100));
    }

    #[test]
    fn the_max_fee_is_clamped_to_the_cap_and_the_tip_to_the_max_fee() {
        assert_eq!(capped_fees(fees(300, 2), 100), fees(100, 2));
        assert_eq!(capped_fees(fees(300, 150), 100), fees(100, 100));
        assert_eq!(capped_fees(fees(u128::MAX, u128::MAX), 1), fees(1, 1));
    }

    #[test]
    fn capped_fees_never_exceed_the_cap_nor_the_tip_the_max_fee() {
        let values = [0, 1, 2, 99, 100, 101, 1 << 64, u128::MAX - 1, u128::MAX];
        for max_fee in values {
            for tip in values {
                for cap in values {
                    let capped = capped_fees(fees(max_fee, tip), cap);
                    assert!(capped.max_fee_per_gas <= cap);
                    assert!(capped.max_fee_per_gas <= max_fee);
                    assert!(capped.max_priority_fee_per_gas <= capped.max_fee_per_gas);
                    assert!(capped.max_priority_fee_per_gas <= tip);
                    // Nothing is lowered that did not have to be.
                    assert_eq!(capped.max_fee_per_gas, max_fee.min(cap));
                    assert_eq!(capped.max_priority_fee_per_gas, tip.min(max_fee).min(cap));
                }
            }
        }
    }
}
