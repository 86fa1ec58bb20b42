//! The trestle side: a JSON-RPC client of one validator and signed submissions to owned
//! namespaces.

use std::time::Duration;

use alloy_primitives::B256;
use commonware_cryptography::ed25519;
use jsonrpsee::core::client::Error as ClientError;
use trestle_api::{
    SubmitRequest, TrestleApiClient as _,
    authorization::authorize,
    client::{ConnectError, HttpClient, connect},
    codes,
};
use trestle_light_client::Transaction;

/// Timeout of one request to the network.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request to the network failed.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The client could not be built from the URL.
    #[error("network {0}")]
    Client(#[from] ConnectError),
    /// The request failed (transport, timeout, or an error answer).
    #[error("network rpc: {0}")]
    Rpc(#[from] ClientError),
}

/// What became of a submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// The validator accepted it into its mempool.
    Accepted,
    /// The validator already had it (pending or finalized): an earlier attempt, ours or
    /// another relayer's, got there.
    AlreadyKnown,
}

/// A client of one validator's JSON-RPC API.
#[derive(Clone, Debug)]
pub struct Network {
    client: HttpClient,
}

impl Network {
    /// A client of the validator at `url` (no request is made yet).
    pub fn connect(url: &str) -> Result<Self, NetworkError> {
        Ok(Self { client: connect(url, REQUEST_TIMEOUT)? })
    }

    /// The typed client (`TrestleApiClient` methods).
    pub fn client(&self) -> &HttpClient {
        &self.client
    }

    /// Submits `tx` to its owned namespace, signed by the namespace owner `owner`.
    ///
    /// A duplicate or already finalized transaction counts as submitted: resubmitting after a
    /// crash is how the post loop stays exactly-once in effect.
    pub async fn submit_owned(
        &self,
        owner: &ed25519::PrivateKey,
        tx: &Transaction,
    ) -> Result<Submitted, NetworkError> {
        let hash = tx.hash();
        let authorization = authorize(owner, tx);
        let request = SubmitRequest {
            namespace: tx.namespace.get(),
            payload: tx.payload.clone(),
            authorization: Some(authorization.as_ref().to_vec().into()),
        };
        match self.client.submit(request).await {
            Ok(returned) if returned == hash => Ok(Submitted::Accepted),
            Ok(returned) => Err(NetworkError::Rpc(ClientError::Custom(format!(
                "the validator answered hash {returned} for transaction {hash}"
            )))),
            Err(ClientError::Call(e)) if codes::is_already_known(e.code()) => {
                Ok(Submitted::AlreadyKnown)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The latest finalized height.
    pub async fn finalized_height(&self) -> Result<u64, NetworkError> {
        Ok(self.client.block_height().await?)
    }

    /// The height a transaction was finalized at, if it was.
    pub async fn inclusion_height(&self, tx_hash: B256) -> Result<Option<u64>, NetworkError> {
        Ok(self.client.tx_proof(tx_hash).await?.map(|inclusion| inclusion.height))
    }
}
