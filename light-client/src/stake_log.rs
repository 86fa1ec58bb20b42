//! Decoding `StakeTable.sol`'s logs into [`StakeTableEvent`]s.
//!
//! Whoever reads the L1 (a validator's stake-table source, `trestle validator status`) hands the
//! raw logs of the table's address here, with their positions; what comes back is what
//! [`StakeTableSnapshot::apply`](crate::stake::StakeTableSnapshot::apply) folds. Decoding is
//! strict (validated ABI, exact topic count, canonical bytes only) and refuses, with a
//! [`StakeLogError`], anything the contract cannot have emitted: an unknown event, a deposit
//! beyond its 96 bits, a p2p address beyond its length limit. `StakeWithdrawn` decodes to
//! `None`: a withdrawal changes nothing the committee rule reads (the account left at
//! `ValidatorDeregistered`).
//!
//! The event declarations below are the contract's (`IStakeTable.sol`); a test pins their
//! signature hashes to the ABI forge compiled (`relayer/abi/StakeTable.json`).

use alloy_primitives::{B256, U256};
use alloy_sol_types::{SolEvent, sol};

use crate::stake::{LogPosition, Registration, StakeTableEvent};

sol! {
    /// `IStakeTable.ValidatorRegistered`.
    event ValidatorRegistered(
        address indexed account,
        bytes32 indexed consensusKey,
        bytes32[2] lightClientKey,
        string p2pAddress,
        bytes32[2] consensusPop,
        bytes32[3] lightClientPop,
        uint256 stake
    );
    /// `IStakeTable.StakeAdded`.
    event StakeAdded(address indexed account, uint256 amount, uint256 stake);
    /// `IStakeTable.P2pAddressUpdated`.
    event P2pAddressUpdated(address indexed account, string p2pAddress);
    /// `IStakeTable.ValidatorDeregistered`.
    event ValidatorDeregistered(address indexed account, uint256 withdrawableAt);
    /// `IStakeTable.StakeWithdrawn`.
    event StakeWithdrawn(address indexed account, address indexed recipient, uint256 amount);
}

/// `StakeTable.MAX_P2P_ADDRESS_LENGTH`.
pub const MAX_P2P_ADDRESS_LENGTH: usize = 260;
/// Largest deposit the contract can hold (`uint96`).
pub const MAX_STAKE: u128 = (1 << 96) - 1;

/// Why a log is not a StakeTable event the contract can have emitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StakeLogError {
    /// The log has no topics (anonymous events are not the table's).
    #[error("log has no topics")]
    NoTopics,
    /// topic0 is none of the table's events.
    #[error("unknown event signature {0}")]
    UnknownEvent(B256),
    /// The log has the event's signature but its topics or data do not decode strictly.
    #[error("malformed {event} log: {reason}")]
    Malformed {
        /// The event.
        event: &'static str,
        /// The decoder's complaint.
        reason: String,
    },
    /// A deposit above the contract's 96-bit limit.
    #[error("stake {0} exceeds the table's 96-bit deposits")]
    StakeTooLarge(U256),
    /// A p2p address longer than the contract accepts.
    #[error("p2p address of {0} bytes exceeds {MAX_P2P_ADDRESS_LENGTH}")]
    P2pAddressTooLong(usize),
}

/// Strict decoding: the log must be exactly what encoding the decoded event gives back (the ABI
/// decoder alone tolerates, for example, a string's last word cut short).
fn decode<E: SolEvent>(topics: &[B256], data: &[u8]) -> Result<E, StakeLogError> {
    let malformed = |reason: String| StakeLogError::Malformed { event: E::SIGNATURE, reason };
    let event = E::decode_raw_log_validate(topics.iter().copied(), data)
        .map_err(|e| malformed(e.to_string()))?;
    let canonical = event.encode_log_data();
    if canonical.topics() != topics || canonical.data.as_ref() != data {
        return Err(malformed("not the canonical encoding".into()));
    }
    Ok(event)
}

fn stake(value: U256) -> Result<u128, StakeLogError> {
    u128::try_from(value)
        .ok()
        .filter(|stake| *stake <= MAX_STAKE)
        .ok_or(StakeLogError::StakeTooLarge(value))
}

fn p2p(address: String) -> Result<String, StakeLogError> {
    if address.len() > MAX_P2P_ADDRESS_LENGTH {
        return Err(StakeLogError::P2pAddressTooLong(address.len()));
    }
    Ok(address)
}

/// Decodes one log of the StakeTable contract found at `position` (`None` for `StakeWithdrawn`).
pub fn decode_stake_log(
    position: LogPosition,
    topics: &[B256],
    data: &[u8],
) -> Result<Option<StakeTableEvent>, StakeLogError> {
    let signature = *topics.first().ok_or(StakeLogError::NoTopics)?;
    let event = if signature == ValidatorRegistered::SIGNATURE_HASH {
        let e: ValidatorRegistered = decode(topics, data)?;
        let mut light_client_key = [0u8; 64];
        light_client_key[..32].copy_from_slice(e.lightClientKey[0].as_slice());
        light_client_key[32..].copy_from_slice(e.lightClientKey[1].as_slice());
        let mut consensus_pop = [0u8; 64];
        consensus_pop[..32].copy_from_slice(e.consensusPop[0].as_slice());
        consensus_pop[32..].copy_from_slice(e.consensusPop[1].as_slice());
        let mut light_client_pop = [0u8; 96];
        for (chunk, word) in light_client_pop.chunks_exact_mut(32).zip(e.lightClientPop.iter()) {
            chunk.copy_from_slice(word.as_slice());
        }
        StakeTableEvent::Registered(Box::new(Registration {
            account: e.account,
            consensus_key: e.consensusKey,
            light_client_key,
            p2p_address: p2p(e.p2pAddress)?,
            consensus_pop,
            light_client_pop,
            stake: stake(e.stake)?,
            registered_at: position,
        }))
    } else if signature == StakeAdded::SIGNATURE_HASH {
        let e: StakeAdded = decode(topics, data)?;
        StakeTableEvent::StakeAdded { account: e.account, stake: stake(e.stake)? }
    } else if signature == P2pAddressUpdated::SIGNATURE_HASH {
        let e: P2pAddressUpdated = decode(topics, data)?;
        StakeTableEvent::P2pAddressUpdated { account: e.account, p2p_address: p2p(e.p2pAddress)? }
    } else if signature == ValidatorDeregistered::SIGNATURE_HASH {
        let e: ValidatorDeregistered = decode(topics, data)?;
        StakeTableEvent::Deregistered { account: e.account }
    } else if signature == StakeWithdrawn::SIGNATURE_HASH {
        decode::<StakeWithdrawn>(topics, data)?;
        return Ok(None);
    } else {
        return Err(StakeLogError::UnknownEvent(signature));
    };
    Ok(Some(event))
}
