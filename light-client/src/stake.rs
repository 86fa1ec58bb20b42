//! The L1 stake table as the chain sees it, and the rule that turns it into a committee.
//!
//! `StakeTable.sol` records registrations (keys, p2p address, both proofs of possession, deposit)
//! and their changes as events. A [`StakeTableSnapshot`] is the fold of those events, in log
//! order, up to an L1 block: the block the trestle chain finalized as the reference of an epoch's
//! last block (DESIGN §3a). Everyone who folds the same events gets the same snapshot, so the
//! committee drawn from it ([`select_committee`]) is the same on every honest validator, on a node
//! syncing from genesis years later, and in `trestle confirm`.
//!
//! The committee rule:
//! 1. a registration is *eligible* when its light-client key is a valid EdDSA-Poseidon key (on the
//!    curve, in the prime subgroup), both proofs of possession verify against [`pop_message`], its
//!    p2p address is `ip:port` or `host:port` ([`PeerAddress`]), and no earlier eligible
//!    registration holds one of its keys (the contract refuses duplicates; a lying L1 source does
//!    not get to double a member);
//! 2. the eligible are ranked by stake, largest first, then by registration order (earliest
//!    first): ties are broken by the L1 log position, which every node sees identically;
//! 3. the first `seats` of the ranking form the committee, in ranking order.
//!
//! Which registrations were left out and why is returned too ([`Ineligible`]), so that an operator
//! learns from `trestle validator status` that its proof does not verify instead of waiting for a
//! seat that never comes. ed25519 is not part of this crate (it has no consensus dependency): the
//! consensus key's proof is checked through [`ConsensusPopVerifier`], implemented by `trestle-api`
//! over commonware's ed25519.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_sol_types::SolValue as _;
use ark_ff::PrimeField;

use crate::{
    eddsa::{KeyError, PublicKey, SIGNATURE_LEN, Signature, SignatureError},
    field::Fr,
    peer_address::{PeerAddress, PeerAddressError},
};

/// The string whose keccak256 is `StakeTable.POP_DOMAIN`.
pub const POP_DOMAIN_TAG: &str = "trestle.StakeTable.proofOfPossession.v1";
/// The namespace of the ed25519 proof of possession (commonware's `sign(namespace, message)`).
pub const CONSENSUS_POP_NAMESPACE: &[u8] = b"trestle.stake-table.pop";
/// Length of an ed25519 signature.
pub const CONSENSUS_POP_LEN: usize = 64;
/// Length of a light-client key (circomlib `x ‖ y`).
pub const LIGHT_CLIENT_KEY_LEN: usize = 64;

/// Which stake table a proof of possession is for: the L1 chain and the contract's address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StakeTableId {
    /// The L1 chain id (`block.chainid`).
    pub chain_id: u64,
    /// The StakeTable contract.
    pub address: Address,
}

/// What both proofs of possession sign, exactly as `StakeTable.popMessage` computes it:
/// `keccak256(abi.encode(POP_DOMAIN, chainid, table, account, consensusKey, x, y))`.
pub fn pop_message(
    table: &StakeTableId,
    account: &Address,
    consensus_key: &B256,
    light_client_key: &[u8; LIGHT_CLIENT_KEY_LEN],
) -> B256 {
    let x = B256::from_slice(&light_client_key[..32]);
    let y = B256::from_slice(&light_client_key[32..]);
    let encoded = (
        keccak256(POP_DOMAIN_TAG),
        U256::from(table.chain_id),
        table.address,
        *account,
        *consensus_key,
        x,
        y,
    )
        .abi_encode();
    keccak256(encoded)
}

/// The string whose keccak256 separates genesis proofs of possession (`trestle keygen`,
/// `trestle genesis`) from the stake table's.
pub const GENESIS_POP_DOMAIN_TAG: &str = "trestle.genesis.proofOfPossession.v1";
/// The namespace of the ed25519 genesis proof of possession.
pub const GENESIS_CONSENSUS_POP_NAMESPACE: &[u8] = b"trestle.genesis.pop";

/// What both proofs of possession of a genesis entry sign:
/// `keccak256(abi.encode(keccak256(GENESIS_POP_DOMAIN_TAG), consensusKey, x, y))`. Each key signs
/// both public keys, so nobody can pair another operator's key with their own or register a key
/// whose secret they do not hold.
pub fn genesis_pop_message(
    consensus_key: &B256,
    light_client_key: &[u8; LIGHT_CLIENT_KEY_LEN],
) -> B256 {
    let x = B256::from_slice(&light_client_key[..32]);
    let y = B256::from_slice(&light_client_key[32..]);
    keccak256((keccak256(GENESIS_POP_DOMAIN_TAG), *consensus_key, x, y).abi_encode())
}

/// The field element the light-client key signs for its proof: the message, big-endian, mod r.
pub fn light_client_pop_message(message: &B256) -> Fr {
    Fr::from_be_bytes_mod_order(message.as_slice())
}

/// Checks the ed25519 proof of possession of a consensus key (implemented outside the kernel).
pub trait ConsensusPopVerifier {
    /// Whether `pop` is the consensus key's signature of `message` under
    /// [`CONSENSUS_POP_NAMESPACE`]. Malformed keys and signatures are `false`.
    fn verify(&self, consensus_key: &B256, message: &B256, pop: &[u8; CONSENSUS_POP_LEN]) -> bool;
}

/// Where an event is in the L1 log: ties between equal stakes are broken by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogPosition {
    /// L1 block number.
    pub block: u64,
    /// Index of the log in that block.
    pub index: u64,
}

/// One registration, as `ValidatorRegistered` recorded it and later events changed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// The registering account (whose deposit it is).
    pub account: Address,
    /// ed25519 consensus and p2p key.
    pub consensus_key: B256,
    /// Light-client key, circomlib `x ‖ y` (validated at selection).
    pub light_client_key: [u8; LIGHT_CLIENT_KEY_LEN],
    /// Where peers reach it.
    pub p2p_address: String,
    /// ed25519 signature of the proof-of-possession message.
    pub consensus_pop: [u8; CONSENSUS_POP_LEN],
    /// EdDSA-Poseidon signature of the message mod r (`R8 ‖ S`).
    pub light_client_pop: [u8; SIGNATURE_LEN],
    /// Deposit, in wei.
    pub stake: u128,
    /// Where it registered.
    pub registered_at: LogPosition,
}

/// A StakeTable event, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StakeTableEvent {
    /// `ValidatorRegistered` (its `registered_at` is the event's position). Boxed: a registration
    /// is ten times the size of the other events.
    Registered(Box<Registration>),
    /// `StakeAdded`: the account's deposit is now `stake`.
    StakeAdded {
        /// The validator.
        account: Address,
        /// Its deposit after the event.
        stake: u128,
    },
    /// `P2pAddressUpdated`.
    P2pAddressUpdated {
        /// The validator.
        account: Address,
        /// Where peers reach it now.
        p2p_address: String,
    },
    /// `ValidatorDeregistered`: the account leaves the table (its withdrawal is no concern here).
    Deregistered {
        /// The validator.
        account: Address,
    },
}

/// Why a sequence of events cannot be the log of a StakeTable (the L1 source is wrong or lying:
/// the contract cannot emit these). The snapshot is unchanged when an event is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StakeTableError {
    /// Events must come in strictly increasing log order.
    #[error("event at {position:?} is not after the previous one at {previous:?}")]
    OutOfOrder {
        /// The refused event's position.
        position: LogPosition,
        /// The last applied position.
        previous: LogPosition,
    },
    /// A registration's position differs from its event's.
    #[error("registration claims position {claimed:?} but its event is at {position:?}")]
    PositionMismatch {
        /// The event's position.
        position: LogPosition,
        /// The position inside the registration.
        claimed: LogPosition,
    },
    /// `Registered` for an account that is in the table already.
    #[error("account {0} registered twice")]
    AlreadyRegistered(Address),
    /// An event for an account that is not in the table.
    #[error("account {0} is not registered")]
    NotRegistered(Address),
    /// `StakeAdded` that lowers the deposit.
    #[error("deposit of {account} would fall from {from} to {to}")]
    StakeDecreased {
        /// The validator.
        account: Address,
        /// Its deposit before.
        from: u128,
        /// What the event claims.
        to: u128,
    },
}

/// The active registrations of a stake table at some point of its log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StakeTableSnapshot {
    active: BTreeMap<Address, Registration>,
    last: Option<LogPosition>,
}

impl StakeTableSnapshot {
    /// The empty table (before the contract's first event).
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies the event found at `position`; refuses (and changes nothing) what the contract
    /// could not have emitted.
    pub fn apply(
        &mut self,
        position: LogPosition,
        event: StakeTableEvent,
    ) -> Result<(), StakeTableError> {
        if let Some(previous) = self.last
            && position <= previous
        {
            return Err(StakeTableError::OutOfOrder { position, previous });
        }
        match event {
            StakeTableEvent::Registered(registration) => {
                if registration.registered_at != position {
                    return Err(StakeTableError::PositionMismatch {
                        position,
                        claimed: registration.registered_at,
                    });
                }
                if self.active.contains_key(&registration.account) {
                    return Err(StakeTableError::AlreadyRegistered(registration.account));
                }
                self.active.insert(registration.account, *registration);
            }
            StakeTableEvent::StakeAdded { account, stake } => {
                let entry = self.entry(&account)?;
                if stake < entry.stake {
                    return Err(StakeTableError::StakeDecreased {
                        account,
                        from: entry.stake,
                        to: stake,
                    });
                }
                entry.stake = stake;
            }
            StakeTableEvent::P2pAddressUpdated { account, p2p_address } => {
                self.entry(&account)?.p2p_address = p2p_address;
            }
            StakeTableEvent::Deregistered { account } => {
                if self.active.remove(&account).is_none() {
                    return Err(StakeTableError::NotRegistered(account));
                }
            }
        }
        self.last = Some(position);
        Ok(())
    }

    fn entry(&mut self, account: &Address) -> Result<&mut Registration, StakeTableError> {
        self.active.get_mut(account).ok_or(StakeTableError::NotRegistered(*account))
    }

    /// The active registrations, by account.
    pub fn active(&self) -> impl Iterator<Item = &Registration> {
        self.active.values()
    }

    /// The registration of `account`, if active.
    pub fn get(&self, account: &Address) -> Option<&Registration> {
        self.active.get(account)
    }

    /// Number of active registrations.
    pub fn len(&self) -> usize {
        self.active.len()
    }

    /// Whether no registration is active.
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    /// Position of the last applied event.
    pub fn last_position(&self) -> Option<LogPosition> {
        self.last
    }
}

/// Why an active registration does not count for committees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ineligible {
    /// The light-client key is not a valid key.
    #[error("light-client key: {0}")]
    LightClientKey(KeyError),
    /// The light-client proof of possession does not verify.
    #[error("light-client proof of possession: {0}")]
    LightClientPop(SignatureError),
    /// The consensus key's proof of possession does not verify.
    #[error("consensus proof of possession does not verify")]
    ConsensusPop,
    /// The p2p address is neither `ip:port` (IPv6 without a scope or flow label) nor
    /// `host:port` with an RFC 1123 name ([`PeerAddress`]).
    #[error("p2p address: {0}")]
    P2pAddress(PeerAddressError),
    /// An earlier eligible registration holds the same consensus or light-client key.
    #[error("a key is held by the earlier registration of {0}")]
    DuplicateKey(Address),
}

/// A committee member drawn from the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member<'a> {
    /// Its registration.
    pub registration: &'a Registration,
    /// Its validated light-client key.
    pub light_client_key: PublicKey,
    /// Its validated p2p address.
    pub p2p_address: PeerAddress,
}

/// The outcome of [`select_committee`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection<'a> {
    /// The committee, in ranking order (largest stake first, earliest registration on ties).
    pub members: Vec<Member<'a>>,
    /// Eligible registrations ranked below the last seat, in ranking order.
    pub waiting: Vec<&'a Registration>,
    /// Active registrations that cannot count, and why, in registration order.
    pub ineligible: Vec<(&'a Registration, Ineligible)>,
}

/// Checks one registration against the committee rule's first step (keys, proofs, address);
/// duplicates are a property of the whole table and are found by [`select_committee`].
pub fn check_registration(
    table: &StakeTableId,
    registration: &Registration,
    consensus: &impl ConsensusPopVerifier,
) -> Result<(PublicKey, PeerAddress), Ineligible> {
    let key = PublicKey::from_bytes(&registration.light_client_key)
        .map_err(Ineligible::LightClientKey)?;
    let message = pop_message(
        table,
        &registration.account,
        &registration.consensus_key,
        &registration.light_client_key,
    );
    Signature::from_bytes(&registration.light_client_pop)
        .and_then(|signature| signature.verify(&key, &light_client_pop_message(&message)))
        .map_err(Ineligible::LightClientPop)?;
    if !consensus.verify(&registration.consensus_key, &message, &registration.consensus_pop) {
        return Err(Ineligible::ConsensusPop);
    }
    let p2p_address =
        registration.p2p_address.parse::<PeerAddress>().map_err(Ineligible::P2pAddress)?;
    Ok((key, p2p_address))
}

/// The committee of at most `seats` members the table yields (see the module docs for the rule).
pub fn select_committee<'a>(
    table: &StakeTableId,
    snapshot: &'a StakeTableSnapshot,
    seats: usize,
    consensus: &impl ConsensusPopVerifier,
) -> Selection<'a> {
    let mut by_order: Vec<&Registration> = snapshot.active().collect();
    by_order.sort_by_key(|registration| registration.registered_at);

    // Keys of the eligible registrations seen so far => their holder.
    let mut consensus_keys = BTreeMap::new();
    let mut light_client_keys = BTreeMap::new();
    let mut eligible = Vec::new();
    let mut ineligible = Vec::new();
    for registration in by_order {
        if let Some(holder) = consensus_keys.get(&registration.consensus_key) {
            ineligible.push((registration, Ineligible::DuplicateKey(*holder)));
            continue;
        }
        if let Some(holder) = light_client_keys.get(&registration.light_client_key) {
            ineligible.push((registration, Ineligible::DuplicateKey(*holder)));
            continue;
        }
        match check_registration(table, registration, consensus) {
            Ok((light_client_key, p2p_address)) => {
                consensus_keys.insert(registration.consensus_key, registration.account);
                light_client_keys.insert(registration.light_client_key, registration.account);
                eligible.push(Member { registration, light_client_key, p2p_address });
            }
            Err(reason) => ineligible.push((registration, reason)),
        }
    }
    // Stable sort by stake, largest first: equal stakes keep registration order.
    eligible.sort_by_key(|member| std::cmp::Reverse(member.registration.stake));
    let waiting = eligible.iter().skip(seats).map(|member| member.registration).collect();
    eligible.truncate(seats);
    Selection { members: eligible, waiting, ineligible }
}
