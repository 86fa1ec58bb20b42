//! A transaction priced out of the chain is replaced: against anvil mining only on demand, the
//! relayer's send waits in the pool when every block's base fee jumps above its max fee, is sent
//! again at the same nonce with higher fees within the cap, and that version is mined, once. A
//! transaction an earlier process left in the pool at the account's nonce is outbid, not queued
//! behind.

use std::sync::Arc;

use alloy::{
    primitives::{Address, U256},
    providers::{DynProvider, Provider as _},
};
use trestle_relayer::{
    config::{ChainConfig, SourceHead},
    evm::EvmChain,
};

use crate::harness::{Anvil, DEADLINE, DEPLOYER_KEY, RELAYER_KEY, eventually};

const CHAIN: u64 = 31_341;
const GWEI: u128 = 1_000_000_000;

fn chain(rpc: &str) -> EvmChain {
    let config = ChainConfig {
        name: "stuck".into(),
        chain_id: CHAIN,
        rpc: rpc.to_owned(),
        mailbox: Address::repeat_byte(0x11),
        // No code there: a call to it is a plain transaction that always succeeds.
        light_client: Address::repeat_byte(0x22),
        message_namespace: 1,
        block_namespace: 2,
        owner_key: None,
        evm_key: Some(RELAYER_KEY.into()),
        evm_key_file: None,
        max_gas_price_wei: 1_000 * GWEI,
        head: SourceHead::Latest,
        replace_after_ms: 300,
        confirmations: 0,
        start_block: None,
    };
    let signer = config.load_evm_signer("evm_key").expect("signer");
    EvmChain::connect(Arc::new(config), Some(signer)).expect("client")
}

async fn counts(provider: &DynProvider, account: Address) -> (u64, u64) {
    let latest = provider.get_transaction_count(account).latest().await.expect("count");
    let pending = provider.get_transaction_count(account).pending().await.expect("count");
    (latest, pending)
}

/// Mines one block whose base fee is `base_fee`.
async fn mine_at(provider: &DynProvider, base_fee: u128) {
    let _: () = provider
        .raw_request("anvil_setNextBlockBaseFeePerGas".into(), (U256::from(base_fee),))
        .await
        .expect("anvil_setNextBlockBaseFeePerGas");
    let _: String = provider.raw_request("evm_mine".into(), ()).await.expect("evm_mine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_priced_out_transaction_is_replaced_with_higher_fees() {
    let anvil = Anvil::start_with(CHAIN, &["--no-mining"]);
    anvil.ready(CHAIN).await;
    let provider = anvil.provider(DEPLOYER_KEY);
    let chain = chain(&anvil.url);
    let account = chain.sender().expect("a signer");

    let sending = tokio::spawn({
        let chain = chain.clone();
        async move {
            let light_client = chain.light_client();
            chain.send(light_client.latestState()).await
        }
    });
    eventually("the transaction waits in the pool", || async {
        let (latest, pending) = counts(&provider, account).await;
        (latest == 0 && pending == 1).then_some(())
    })
    .await;
    // Every block from now on costs 100 gwei of base fee: far above what the first version
    // offered (about twice the 1 gwei base fee it was priced at), far below the cap.
    let base_fee = 100 * GWEI;
    let started = std::time::Instant::now();
    while !sending.is_finished() {
        assert!(started.elapsed() < DEADLINE, "the transaction was never replaced");
        mine_at(&provider, base_fee).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let receipt = sending.await.expect("task").expect("the replacement is mined");
    assert!(chain.replacements() >= 1, "replaced at least once");
    assert!(receipt.effective_gas_price >= base_fee, "{}", receipt.effective_gas_price);
    assert!(receipt.effective_gas_price <= 1_000 * GWEI, "within the cap");
    assert_eq!(counts(&provider, account).await, (1, 1), "one transaction mined, none left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_left_in_the_pool_by_an_earlier_process_is_outbid() {
    let anvil = Anvil::start_with(CHAIN, &["--no-mining"]);
    anvil.ready(CHAIN).await;
    let provider = anvil.provider(DEPLOYER_KEY);
    let chain = chain(&anvil.url);
    let account = chain.sender().expect("a signer");

    // What a crashed relayer left behind: a transaction at the account's nonce, generously
    // priced, still in the pool.
    let earlier = anvil.provider(RELAYER_KEY);
    let left = alloy::rpc::types::TransactionRequest::default()
        .from(account)
        .to(Address::repeat_byte(0x33))
        .nonce(0)
        .gas_limit(21_000)
        .max_fee_per_gas(50 * GWEI)
        .max_priority_fee_per_gas(10 * GWEI);
    let left = *earlier.send_transaction(left).await.expect("sent").tx_hash();
    assert_eq!(counts(&provider, account).await, (0, 1));

    let sending = tokio::spawn({
        let chain = chain.clone();
        async move {
            let light_client = chain.light_client();
            chain.send(light_client.latestState()).await
        }
    });
    // Once the new version has replaced the old one in the pool, a block takes it.
    let started = std::time::Instant::now();
    while !sending.is_finished() {
        assert!(started.elapsed() < DEADLINE, "the left-over transaction was never outbid");
        let pool: serde_json::Value =
            provider.raw_request("txpool_content".into(), ()).await.expect("txpool_content");
        let waiting = pool["pending"].to_string();
        if !waiting.contains(&format!("{left:#x}")) && waiting.contains("\"0x0\"") {
            let _: String = provider.raw_request("evm_mine".into(), ()).await.expect("evm_mine");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let receipt = sending.await.expect("task").expect("the new version is mined");
    assert_ne!(receipt.transaction_hash, left);
    assert!(provider.get_transaction_receipt(left).await.expect("rpc").is_none());
    assert_eq!(counts(&provider, account).await, (1, 1), "one transaction at that nonce");
}
