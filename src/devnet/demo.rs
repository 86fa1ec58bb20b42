//! The devnet's demo: one message from the first chain's `Mailbox` to the second chain's
//! `Counter`, followed until it is delivered; then, with an L1, the settlement check of a
//! rollup block ([`super::settlement`]).

use std::time::Duration;

use anyhow::bail;

use super::{
    files::DevnetFile,
    messages::{self, DemoRecord},
    relayer,
};

/// The demo: a message from the first chain's mailbox to the second chain's `Counter`, sent
/// by anvil's dev account 2, followed until it is delivered. Prints both ends.
pub(crate) async fn demo(devnet: DevnetFile) -> anyhow::Result<DemoRecord> {
    let [from, to, ..] = devnet.chains.as_slice() else {
        bail!("the demo needs two chains");
    };
    let sender = messages::wallet(from, relayer::DEMO_SENDER_KEY)?;
    let receiver = messages::wallet(to, relayer::DEMO_SENDER_KEY)?;
    let payload = format!("hello {} from {}", to.name, from.name);
    let sent = messages::send(&sender, from, to, to.contracts.counter, payload.as_bytes()).await?;
    eprintln!(
        "\ndemo message {} → {} (Counter {}): {payload:?} sent in tx {} (block {}), message {}",
        from.name, to.name, to.contracts.counter, sent.tx, sent.block, sent.hash
    );
    let mut record = DemoRecord {
        from_chain: from.chain_id,
        to_chain: to.chain_id,
        message_hash: sent.hash,
        sent_tx: sent.tx,
        sent_block: sent.block,
        delivered: None,
        latency_ms: None,
        counter_total: None,
        settlement: None,
    };
    let delivery =
        messages::wait_delivered(&receiver, to, sent.hash, Duration::from_secs(300)).await?;
    let latency = sent.sent_at.elapsed();
    let total = messages::counter_total(&receiver, to).await?;
    eprintln!(
        "\ndemo message delivered on {} in tx {} (block {}) {:.1} s after its send; \
         Counter.total() = {total}",
        to.name,
        delivery.tx,
        delivery.block,
        latency.as_secs_f64()
    );
    record.delivered = Some(delivery);
    record.latency_ms = Some(u64::try_from(latency.as_millis()).unwrap_or(u64::MAX));
    record.counter_total = Some(total.to_string());
    // Hybrid mode: the L1 settles a rollup block only with trestle's confirmation of it.
    record.settlement = match super::settlement::demo(&devnet).await {
        Ok(settlement) => settlement,
        Err(error) => {
            eprintln!("\nsettlement demo: {error:#}");
            None
        }
    };
    Ok(record)
}
