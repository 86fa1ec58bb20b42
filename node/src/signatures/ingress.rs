//! Ingress of the signatures actor: the queries its [`Mailbox`] sends.

use commonware_utils::channel::{mpsc, oneshot};
use trestle_light_client::{Height, LightClientState, PublicKey, Signature, StateSignature};

/// Queries to the actor.
pub(crate) enum Message {
    /// Verified signatures at a height.
    Signatures { height: Height, response: oneshot::Sender<Vec<(u32, PublicKey, Signature)>> },
    /// A quorum at a height, if collected.
    Quorum {
        height: Height,
        response: oneshot::Sender<Option<(LightClientState, Vec<StateSignature>)>>,
    },
}

/// Handle to the signatures actor.
#[derive(Clone, Debug)]
pub struct Mailbox {
    sender: mpsc::Sender<Message>,
}

impl Mailbox {
    pub(crate) fn new(sender: mpsc::Sender<Message>) -> Self {
        Self { sender }
    }

    async fn request<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Message) -> Option<T> {
        let (response, receiver) = oneshot::channel();
        self.sender.send(make(response)).await.ok()?;
        receiver.await.ok()
    }

    /// The verified signatures on our finalized light-client state at `height` (ours
    /// included), sorted by committee slot, each with its slot's key. Empty if none are
    /// known, the height was pruned, or the actor stopped.
    pub async fn signatures(&self, height: Height) -> Vec<(u32, PublicKey, Signature)> {
        self.request(|response| Message::Signatures { height, response }).await.unwrap_or_default()
    }

    /// Our finalized light-client state at `height` with signatures (sorted by slot) carrying
    /// more than two thirds of the committee's weight, once collected. The set passes
    /// [`verify_quorum`](trestle_light_client::verify_quorum).
    pub async fn quorum(&self, height: Height) -> Option<(LightClientState, Vec<StateSignature>)> {
        self.request(|response| Message::Quorum { height, response }).await.flatten()
    }
}
