//! The EVM and network clients reach `https://` endpoints over TLS (rustls): what arrives at an
//! `https` URL's port is a TLS handshake, not plain HTTP (nor a panic over crypto providers).

use std::{io::Read as _, net::TcpListener, sync::Arc, time::Duration};

use alloy::primitives::Address;
use trestle_relayer::{config::ChainConfig, evm::EvmChain, network::Network};

/// A listener that records the first three bytes of its first connection (None if nobody
/// connects within 20 s) and never answers.
fn first_bytes() -> (std::net::SocketAddr, std::thread::JoinHandle<Option<[u8; 3]>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let addr = listener.local_addr().expect("address");
    listener.set_nonblocking(true).expect("non-blocking");
    let server = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(_) => return None,
            }
        };
        stream.set_nonblocking(false).expect("blocking");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        let mut first = [0u8; 3];
        stream.read_exact(&mut first).ok().map(|()| first)
    });
    (addr, server)
}

/// A client of chain `chain_id` at `rpc` with no signer (nothing is sent), its mailbox and
/// light client at the given addresses.
pub(crate) fn read_only_chain(
    chain_id: u64,
    rpc: &str,
    mailbox: Address,
    light_client: Address,
) -> EvmChain {
    let config = ChainConfig {
        name: format!("chain-{chain_id}"),
        chain_id,
        rpc: rpc.to_owned(),
        mailbox,
        light_client,
        message_namespace: 1,
        block_namespace: 2,
        owner_key: None,
        evm_key: None,
        evm_key_file: None,
        max_gas_price_wei: 1,
        head: trestle_relayer::config::SourceHead::Latest,
        replace_after_ms: 30_000,
        confirmations: 0,
        start_block: None,
    };
    EvmChain::connect(Arc::new(config), None).expect("client")
}

/// A TLS record of type handshake (22), protocol version 3.x: a ClientHello.
fn assert_tls(first: Option<[u8; 3]>) {
    let first = first.expect("the client connected and wrote");
    assert_eq!(first[..2], [0x16, 0x03], "not a TLS handshake: {first:?}");
}

#[tokio::test]
async fn https_evm_endpoints_are_reached_over_tls() {
    let (addr, server) = first_bytes();
    let chain = read_only_chain(
        1,
        &format!("https://{addr}"),
        Address::repeat_byte(1),
        Address::repeat_byte(2),
    );
    // The server never completes a handshake, so the request fails; what matters is how it began.
    let request = tokio::time::timeout(Duration::from_secs(20), chain.head()).await;
    assert!(!matches!(request, Ok(Ok(_))), "no handshake, yet a block number: {request:?}");
    assert_tls(server.join().expect("server thread"));
}

#[tokio::test]
async fn https_network_endpoints_are_reached_over_tls() {
    let (addr, server) = first_bytes();
    let network = Network::connect(&[format!("https://{addr}")]).expect("client");
    let request = tokio::time::timeout(Duration::from_secs(20), network.finalized_height()).await;
    assert!(!matches!(request, Ok(Ok(_))), "no handshake, yet a height: {request:?}");
    assert_tls(server.join().expect("server thread"));
}
