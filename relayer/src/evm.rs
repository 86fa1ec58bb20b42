//! The EVM side: one alloy HTTP provider per chain, contract handles, and the one way the
//! relayer sends transactions (gas-price cap, one sender at a time, receipt checked).

use std::{sync::Arc, time::Duration};

use alloy::{
    contract::{CallBuilder, CallDecoder},
    network::EthereumWallet,
    primitives::{Address, TxHash},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::TransactionReceipt,
    signers::local::PrivateKeySigner,
    transports::http::reqwest::Url,
};
use tokio::sync::Mutex;

use crate::{
    bindings::{LightClient, Mailbox},
    config::ChainConfig,
};

/// How long a sent transaction may take to get a receipt.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);

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
    /// The gas price is above the configured cap; sending waits.
    #[error("{chain}: gas price {price} wei is above the cap of {cap} wei")]
    GasPriceAboveCap {
        /// The chain.
        chain: String,
        /// The current gas price.
        price: u128,
        /// The cap.
        cap: u128,
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
        let provider = match signer {
            Some(signer) => ProviderBuilder::new()
                .wallet(EthereumWallet::from(signer))
                .connect_http(url)
                .erased(),
            None => ProviderBuilder::new().connect_http(url).erased(),
        };
        Ok(Self { config, provider, sender, send_lock: Arc::new(Mutex::new(())) })
    }

    /// The chain's configuration.
    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// The chain's name.
    pub fn name(&self) -> &str {
        &self.config.name
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

    /// The latest block number.
    pub async fn head(&self) -> Result<u64, EvmError> {
        self.provider.get_block_number().await.map_err(|e| self.rpc_error(e))
    }

    /// Sends `call` as a transaction once the gas price is under the cap, waits for its
    /// receipt and fails unless it succeeded. A revert found while estimating gas comes back
    /// as [`EvmError::Contract`] with its revert data (see [`EvmError::revert`]).
    pub async fn send<D: CallDecoder>(
        &self,
        call: CallBuilder<&DynProvider, D>,
    ) -> Result<TransactionReceipt, EvmError> {
        let Some(sender) = self.sender else {
            return Err(EvmError::NoSigner { chain: self.config.name.clone() });
        };
        let _guard = self.send_lock.lock().await;
        // The nonce is the account's pending count, asked afresh under the lock, never one a
        // provider cached: alloy's nonce cache advances even when the gas estimate then fails
        // (a revert), and the next transaction would wait forever behind the gap.
        let nonce = self
            .provider
            .get_transaction_count(sender)
            .pending()
            .await
            .map_err(|e| self.rpc_error(e))?;
        let price = self.provider.get_gas_price().await.map_err(|e| self.rpc_error(e))?;
        if price > self.config.max_gas_price_wei {
            return Err(EvmError::GasPriceAboveCap {
                chain: self.config.name.clone(),
                price,
                cap: self.config.max_gas_price_wei,
            });
        }
        let pending =
            call.from(sender).nonce(nonce).send().await.map_err(|e| self.contract_error(e))?;
        let receipt = pending
            .with_timeout(Some(RECEIPT_TIMEOUT))
            .get_receipt()
            .await
            .map_err(|e| self.contract_error(e.into()))?;
        if !receipt.status() {
            return Err(EvmError::Reverted {
                chain: self.config.name.clone(),
                tx: receipt.transaction_hash,
            });
        }
        Ok(receipt)
    }
}
