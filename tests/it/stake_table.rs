//! The StakeTable on a real L1 (anvil, the contract forge compiled), end to end through the
//! pieces a validator uses: `trestle validator register|deregister|status` send and read the
//! transactions, and the node's JSON-RPC L1 source turns the contract's logs into the blocks
//! its L1 view folds — with proofs of possession made in Rust, checked by the contract's
//! events and by the nodes' selection rule.

use std::net::SocketAddr;

use alloy_primitives::{Address, U256};
use trestle::{
    devnet::{
        chains::{ChainPlan, ensure_foundry, spawn_anvil, wait_for_anvil},
        l1::{DEVNET_MINIMUM_STAKE, deploy_stake_table},
    },
    stake_table::{SenderArgs, StakeCommandError, TableArgs, register, status},
};
use trestle_light_client::{
    PeerAddress,
    stake::{StakeTableEvent, StakeTableId, select_committee},
};
use trestle_node::{
    l1::{JsonRpcL1, L1Source as _, L1View},
    testing::test_keys,
};

use crate::repo_root;

/// anvil's dev accounts 5 and 6 (public test keys): the registering validators.
const ACCOUNT_KEYS: [&str; 3] = [
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
];
const ONE_ETHER: u128 = DEVNET_MINIMUM_STAKE;

#[tokio::test(flavor = "multi_thread")]
async fn validators_register_and_leave_and_nodes_read_it_from_the_logs() {
    let solidity = repo_root().join("solidity");
    ensure_foundry(&solidity).unwrap();
    let dir = crate::cli::tempdir("stake-table");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let plan = ChainPlan { chain_id: 900, port };
    let (anvil, log) = spawn_anvil(&solidity, &dir, &plan, None).unwrap();
    let _anvil = KillOnDrop(anvil);
    {
        wait_for_anvil(&plan, &log).await.unwrap();
        let url = plan.rpc_url();
        let address = deploy_stake_table(&solidity, &url).unwrap();
        let table = TableArgs { l1_rpc: url.clone(), stake_table: address };
        let sender = |i: usize| SenderArgs {
            table: table.clone(),
            private_key: Some(ACCOUNT_KEYS[i].into()),
        };
        // Validator 1 registers by DNS name, the others by IP.
        let p2p = |i: u8| -> PeerAddress {
            match i {
                2 => "validator-2.example.org:9000".parse().unwrap(),
                _ => SocketAddr::from(([10, 0, 0, i], 9_000)).into(),
            }
        };

        // An L1 that does not answer, then a deposit below the minimum: each refused with its
        // reason, nothing registered.
        let nowhere = SenderArgs {
            table: TableArgs { l1_rpc: "http://127.0.0.1:1".into(), stake_table: address },
            private_key: Some(ACCOUNT_KEYS[0].into()),
        };
        let unreachable = register(&nowhere, &test_keys(0), p2p(1), U256::from(ONE_ETHER)).await;
        assert!(matches!(unreachable, Err(StakeCommandError::L1(_))), "{unreachable:?}");
        let low = register(&sender(0), &test_keys(0), p2p(1), U256::from(1u8)).await;
        assert!(
            matches!(&low, Err(StakeCommandError::Refused(r)) if r.contains("StakeBelowMinimum")),
            "{low:?}"
        );
        // Two validators register with real proofs of possession.
        register(&sender(0), &test_keys(0), p2p(1), U256::from(2 * ONE_ETHER)).await.unwrap();
        register(&sender(1), &test_keys(1), p2p(2), U256::from(3 * ONE_ETHER)).await.unwrap();
        // Keys are never registered twice (another account, same keys), nor is an account.
        let twice = register(&sender(2), &test_keys(0), p2p(3), U256::from(ONE_ETHER)).await;
        assert!(
            matches!(&twice, Err(StakeCommandError::Refused(r)) if r.contains("ConsensusKeyAlreadyUsed")),
            "{twice:?}"
        );
        let again = register(&sender(1), &test_keys(2), p2p(3), U256::from(ONE_ETHER)).await;
        assert!(
            matches!(&again, Err(StakeCommandError::Refused(r)) if r.contains("AlreadyRegistered")),
            "{again:?}"
        );

        // The node's source: a safe depth beyond the chain gives nothing yet; at depth 0 the
        // view folds both registrations, and both pass the selection rule.
        let mut deep = JsonRpcL1::connect(&url, address, 1_000).unwrap();
        assert!(deep.blocks(0, 64).await.unwrap().is_empty());
        let mut source = JsonRpcL1::connect(&url, address, 0).unwrap();
        let view = L1View::new(0, 1_024);
        for block in source.blocks(0, 64).await.unwrap() {
            view.extend(block).unwrap();
        }
        let latest = view.latest().unwrap();
        let snapshot = view.stake_table_at(&latest).unwrap();
        assert_eq!(snapshot.len(), 2);
        let id = StakeTableId { chain_id: plan.chain_id, address };
        let selection = select_committee(&id, &snapshot, 8, &trestle_api::stake::Ed25519Pops);
        assert_eq!(selection.members.len(), 2, "{:?}", selection.ineligible);
        assert_eq!(selection.members[0].registration.stake, 3 * ONE_ETHER, "ranked by stake");
        let account = |i: usize| {
            ACCOUNT_KEYS[i].parse::<alloy::signers::local::PrivateKeySigner>().unwrap().address()
        };
        let active = status(&table, account(0)).await.unwrap();
        assert_eq!((active.status.as_str(), active.eligible), ("active", Some(true)));
        assert_eq!(active.p2p_address, "10.0.0.1:9000");
        let named = status(&table, account(1)).await.unwrap();
        assert_eq!(
            (named.p2p_address.as_str(), named.eligible),
            ("validator-2.example.org:9000", Some(true))
        );

        // Validator 0 leaves: the next blocks carry its deregistration.
        let leave = trestle::stake_table::ValidatorCommand::Deregister { sender: sender(0) };
        trestle::stake_table::run(leave).await.unwrap();
        let from = view.next_number();
        let mut left = false;
        for block in source.blocks(from, 64).await.unwrap() {
            left |= block.events.iter().any(|(_, e)| {
                matches!(e, StakeTableEvent::Deregistered { account: a } if *a == account(0))
            });
            view.extend(block).unwrap();
        }
        assert!(left, "the deregistration reached the view");
        let latest = view.latest().unwrap();
        assert_eq!(view.stake_table_at(&latest).unwrap().active().count(), 1);
        assert_eq!(status(&table, account(0)).await.unwrap().status, "exiting");
        assert_eq!(status(&table, Address::ZERO).await.unwrap().eligible, None);
    }
}

/// Stops the anvil however the test ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
