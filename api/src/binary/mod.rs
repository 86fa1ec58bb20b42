//! The binary ingress path: a batch of [`SubmitRequest`]s as raw bytes instead of hex JSON.
//!
//! `POST` [`BINARY_SUBMIT_PATH`] on a node's RPC port (the same listener as JSON-RPC), with
//! `Content-Type:` [`BINARY_CONTENT_TYPE`] and the body [`encode_batch`] builds, submits the batch
//! exactly as `trestle_submitBatch` does: same checks, same admission and replication, and the
//! answer is the same JSON `Vec<SubmitOutcome>` (per transaction, in order: its hash and, if
//! refused, the code and message `trestle_submitBatch` gives). Payloads travel as they are: half
//! the bytes of hex, and no JSON to parse.
//!
//! # Wire format (version 1)
//!
//! All integers are big-endian; there is no padding and no optional field, so every batch has
//! exactly one encoding (decoding and re-encoding gives back the same bytes).
//!
//! ```text
//! batch  = magic "TRSB" (4 bytes) · version 0x01 (1 byte) · count u32 · item × count
//! item   = namespace u64 · payload length u32 · payload bytes
//!          · authorization flag u8: 0x00 none
//!                                 | 0x01 then length u8 · that many bytes
//! ```
//!
//! `count` is at most [`MAX_SUBMIT_BATCH`]. The authorization is carried with its length, not as
//! a fixed 64 bytes, so that a malformed one (a wrong length) reaches the node and gets the same
//! per-transaction refusal as over JSON; anything but 64 bytes is refused there. A body that is
//! not a batch (bad magic or version, a count over the limit, a length past the end, a flag other
//! than 0 or 1, bytes after the last item) is refused whole with a [`BinaryError`].
//!
//! # Answers
//!
//! * `200` with the JSON `Vec<SubmitOutcome>`;
//! * `400` (a body that does not decode; a `Content-Type` other than [`BINARY_CONTENT_TYPE`]),
//!   `405` (a method other than `POST`), `413` (a body over the node's request body bound) and
//!   `429` (too many requests in flight), each with the JSON [`SubmitFailure`] shape
//!   `{"code": …, "message": …}` and the codes [`INVALID_BODY`], [`INVALID_REQUEST`],
//!   [`BODY_TOO_LARGE`] and [`codes::UNAVAILABLE`](crate::codes::UNAVAILABLE).
//!
//! With the `client` feature, `BinaryClient` posts batches and reads the answers (its
//! `is_transport_failure` tells "no answer" from a refusal, for failover).

use alloy_primitives::Bytes;

#[cfg(doc)]
use crate::SubmitFailure;
#[cfg(feature = "client")]
mod client;
use crate::{MAX_SUBMIT_BATCH, SubmitRequest};
#[cfg(feature = "client")]
pub use client::{BinaryClient, BinaryClientError};

/// The path the binary batch is posted to (on the JSON-RPC port).
pub const BINARY_SUBMIT_PATH: &str = "/v1/submitBatch";
/// The request's content type.
pub const BINARY_CONTENT_TYPE: &str = "application/octet-stream";
/// The first four bytes of every batch.
pub const MAGIC: [u8; 4] = *b"TRSB";
/// The format's version (the fifth byte).
pub const VERSION: u8 = 1;
/// Bytes before the first item: magic, version and count.
pub const HEADER_LEN: usize = MAGIC.len() + 1 + 4;
/// Longest authorization the format carries (its length is one byte).
pub const MAX_AUTHORIZATION_LEN: usize = u8::MAX as usize;

/// Code of a `400` answer to a body that is not a batch (JSON-RPC's invalid params).
pub const INVALID_BODY: i32 = -32602;
/// Code of a `400` or `405` answer to a request that is not a binary submission (wrong content
/// type or method; JSON-RPC's invalid request).
pub const INVALID_REQUEST: i32 = -32600;
/// Code of a `413` answer: the body exceeds the node's bound (jsonrpsee's oversized request).
pub const BODY_TOO_LARGE: i32 = -32007;

/// Smallest encoded item: namespace, payload length and flag.
const MIN_ITEM_LEN: usize = 8 + 4 + 1;

/// Why bytes are not a batch, or a batch cannot be encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BinaryError {
    /// The input does not start with [`MAGIC`].
    #[error("not a binary batch: the first bytes are not \"TRSB\"")]
    BadMagic,
    /// The version byte is not [`VERSION`].
    #[error("unsupported binary batch version {0} (this node reads version {VERSION})")]
    UnsupportedVersion(u8),
    /// More transactions than [`MAX_SUBMIT_BATCH`].
    #[error("a batch holds at most {limit} transactions, got {count}")]
    TooManyTransactions {
        /// The batch's count.
        count: u64,
        /// The limit.
        limit: usize,
    },
    /// The input ends inside a field.
    #[error("truncated batch: {field} of transaction {index} needs {needed} bytes, {left} left")]
    Truncated {
        /// The index of the transaction being read (the count's when reading the header).
        index: usize,
        /// The field being read.
        field: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the input.
        left: usize,
    },
    /// A payload longer than the decoder's bound (checked before reading it), or than the
    /// format carries (`u32::MAX` bytes) when encoding.
    #[error("payload of transaction {index} is {len} bytes, over the limit of {limit}")]
    PayloadTooLarge {
        /// The transaction's index.
        index: usize,
        /// The payload's length.
        len: u64,
        /// The bound.
        limit: usize,
    },
    /// An authorization longer than [`MAX_AUTHORIZATION_LEN`] (encoding only).
    #[error("authorization of transaction {index} is {len} bytes, the format carries at most 255")]
    AuthorizationTooLong {
        /// The transaction's index.
        index: usize,
        /// The authorization's length.
        len: usize,
    },
    /// An authorization flag other than 0 or 1.
    #[error("authorization flag of transaction {index} is {flag}, not 0 or 1")]
    BadFlag {
        /// The transaction's index.
        index: usize,
        /// The flag read.
        flag: u8,
    },
    /// Bytes after the last transaction.
    #[error("{0} trailing bytes after the last transaction")]
    TrailingBytes(usize),
}

/// The canonical encoding of `requests` (see the [module docs](self)).
///
/// Refuses a batch this format or the node cannot take: more than [`MAX_SUBMIT_BATCH`]
/// transactions, a payload over `u32::MAX` bytes or an authorization over
/// [`MAX_AUTHORIZATION_LEN`].
pub fn encode_batch(requests: &[SubmitRequest]) -> Result<Vec<u8>, BinaryError> {
    if requests.len() > MAX_SUBMIT_BATCH {
        return Err(BinaryError::TooManyTransactions {
            count: requests.len() as u64,
            limit: MAX_SUBMIT_BATCH,
        });
    }
    let size = requests.iter().fold(HEADER_LEN, |size, request| {
        let authorization = request.authorization.as_ref().map_or(0, |a| 1 + a.len());
        size.saturating_add(MIN_ITEM_LEN + request.payload.len() + authorization)
    });
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    // At most MAX_SUBMIT_BATCH: fits.
    out.extend_from_slice(&(requests.len() as u32).to_be_bytes());
    for (index, request) in requests.iter().enumerate() {
        let len =
            u32::try_from(request.payload.len()).map_err(|_| BinaryError::PayloadTooLarge {
                index,
                len: request.payload.len() as u64,
                limit: u32::MAX as usize,
            })?;
        out.extend_from_slice(&request.namespace.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&request.payload);
        match &request.authorization {
            None => out.push(0),
            Some(authorization) => {
                let len = u8::try_from(authorization.len()).map_err(|_| {
                    BinaryError::AuthorizationTooLong { index, len: authorization.len() }
                })?;
                out.push(1);
                out.push(len);
                out.extend_from_slice(authorization);
            }
        }
    }
    Ok(out)
}

/// Decodes a batch, strictly: the input must be exactly one canonical encoding (see the
/// [module docs](self)), every payload at most `max_payload` bytes (checked before it is read).
///
/// A node passes its request body bound as `max_payload`, so that a payload over the network's
/// limit still decodes and gets the per-transaction `OVERSIZED` refusal `trestle_submitBatch`
/// gives.
pub fn decode_batch(input: &[u8], max_payload: usize) -> Result<Vec<SubmitRequest>, BinaryError> {
    let mut reader = Reader { input, index: 0 };
    if reader.input.len() < MAGIC.len() || reader.input[..MAGIC.len()] != MAGIC {
        return Err(BinaryError::BadMagic);
    }
    reader.take(MAGIC.len(), "magic")?;
    let version = reader.u8("version")?;
    if version != VERSION {
        return Err(BinaryError::UnsupportedVersion(version));
    }
    let count = reader.u32("count")?;
    if count as usize > MAX_SUBMIT_BATCH {
        return Err(BinaryError::TooManyTransactions {
            count: u64::from(count),
            limit: MAX_SUBMIT_BATCH,
        });
    }
    let count = count as usize;
    // Never more slots than the input could fill.
    let mut requests = Vec::with_capacity(count.min(reader.input.len() / MIN_ITEM_LEN));
    for index in 0..count {
        reader.index = index;
        let namespace = reader.u64("namespace")?;
        let len = reader.u32("payload length")?;
        if len as usize > max_payload {
            return Err(BinaryError::PayloadTooLarge {
                index,
                len: u64::from(len),
                limit: max_payload,
            });
        }
        let payload = Bytes::copy_from_slice(reader.take(len as usize, "payload")?);
        let authorization = match reader.u8("authorization flag")? {
            0 => None,
            1 => {
                let len = reader.u8("authorization length")?;
                Some(Bytes::copy_from_slice(reader.take(usize::from(len), "authorization")?))
            }
            flag => return Err(BinaryError::BadFlag { index, flag }),
        };
        requests.push(SubmitRequest { namespace, payload, authorization });
    }
    if !reader.input.is_empty() {
        return Err(BinaryError::TrailingBytes(reader.input.len()));
    }
    Ok(requests)
}

/// A cursor over the input, naming the transaction it is in for errors.
struct Reader<'a> {
    input: &'a [u8],
    index: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, needed: usize, field: &'static str) -> Result<&'a [u8], BinaryError> {
        if self.input.len() < needed {
            return Err(BinaryError::Truncated {
                index: self.index,
                field,
                needed,
                left: self.input.len(),
            });
        }
        let (head, rest) = self.input.split_at(needed);
        self.input = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], BinaryError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, BinaryError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, BinaryError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    fn u64(&mut self, field: &'static str) -> Result<u64, BinaryError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt as _, SeedableRng as _, rngs::StdRng};

    use super::*;

    fn request(namespace: u64, payload: &[u8], authorization: Option<&[u8]>) -> SubmitRequest {
        SubmitRequest {
            namespace,
            payload: Bytes::copy_from_slice(payload),
            authorization: authorization.map(Bytes::copy_from_slice),
        }
    }

    fn sample() -> Vec<SubmitRequest> {
        vec![
            request(7, b"hello", None),
            request(u64::MAX, &[], Some(&[9; 64])),
            request(0, &[0xff; 300], Some(&[1; 10])),
            request(1_000_901, b"x", Some(&[])),
        ]
    }

    fn encode(requests: &[SubmitRequest]) -> Vec<u8> {
        encode_batch(requests).expect("encodable")
    }

    #[test]
    fn batches_round_trip() {
        for batch in [vec![], sample(), vec![request(1, &[0; 70_000], None)]] {
            let bytes = encode(&batch);
            assert_eq!(decode_batch(&bytes, 1 << 20).expect("decodes"), batch);
        }
    }

    #[test]
    fn the_layout_is_as_documented() {
        let bytes = encode(&[request(0x0102, b"ab", Some(&[7, 8]))]);
        let expected: Vec<u8> = [
            &b"TRSB"[..],
            &[1],
            &[0, 0, 0, 1],
            &[0, 0, 0, 0, 0, 0, 1, 2],
            &[0, 0, 0, 2],
            b"ab",
            &[1, 2, 7, 8],
        ]
        .concat();
        assert_eq!(bytes, expected);
        assert_eq!(encode(&[]), [&b"TRSB"[..], &[1, 0, 0, 0, 0]].concat());
    }

    #[test]
    fn the_encoder_refuses_what_the_format_cannot_carry() {
        let many = vec![request(1, b"", None); MAX_SUBMIT_BATCH + 1];
        assert!(matches!(encode_batch(&many), Err(BinaryError::TooManyTransactions { .. })));
        assert_eq!(encode_batch(&many[..MAX_SUBMIT_BATCH]).map(|_| ()), Ok(()));
        let long = [request(1, b"", None), request(1, b"", Some(&[0; 256]))];
        assert_eq!(
            encode_batch(&long),
            Err(BinaryError::AuthorizationTooLong { index: 1, len: 256 })
        );
    }

    #[test]
    fn every_malformed_input_is_refused_with_its_reason() {
        let valid = encode(&sample());
        let decode = |bytes: &[u8]| decode_batch(bytes, 1024);

        assert_eq!(decode(b""), Err(BinaryError::BadMagic));
        assert_eq!(decode(b"TRS"), Err(BinaryError::BadMagic));
        assert_eq!(decode(b"{\"jsonrpc\":\"2.0\"}"), Err(BinaryError::BadMagic));
        let mut version = valid.clone();
        version[4] = 2;
        assert_eq!(decode(&version), Err(BinaryError::UnsupportedVersion(2)));

        let mut count = valid.clone();
        count[5..9].copy_from_slice(&(MAX_SUBMIT_BATCH as u32 + 1).to_be_bytes());
        assert_eq!(
            decode(&count),
            Err(BinaryError::TooManyTransactions { count: 1025, limit: MAX_SUBMIT_BATCH })
        );
        count[5..9].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(decode(&count), Err(BinaryError::TooManyTransactions { .. })));

        assert!(matches!(decode(&valid[..7]), Err(BinaryError::Truncated { field: "count", .. })));
        assert!(matches!(
            decode(&valid[..valid.len() - 1]),
            Err(BinaryError::Truncated { index: 3, field: "authorization length", .. })
        ));
        // A count above the items present.
        let mut more = valid.clone();
        more[5..9].copy_from_slice(&5u32.to_be_bytes());
        assert!(matches!(
            decode(&more),
            Err(BinaryError::Truncated { index: 4, field: "namespace", .. })
        ));
        // A payload length past the end, under the bound.
        let mut past = encode(&[request(1, b"abc", None)]);
        past[17..21].copy_from_slice(&1000u32.to_be_bytes());
        assert!(matches!(
            decode(&past),
            Err(BinaryError::Truncated { field: "payload", needed: 1000, .. })
        ));

        // Over the bound: refused before reading (the claimed length is far past the end).
        let mut huge = encode(&[request(1, b"abc", None)]);
        huge[17..21].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(
            decode(&huge),
            Err(BinaryError::PayloadTooLarge { index: 0, len: u64::from(u32::MAX), limit: 1024 })
        );
        let big = encode(&[request(1, &[0; 1025], None)]);
        assert!(matches!(decode(&big), Err(BinaryError::PayloadTooLarge { len: 1025, .. })));

        let mut flag = encode(&[request(1, b"abc", None)]);
        let last = flag.len() - 1;
        flag[last] = 2;
        assert_eq!(decode(&flag), Err(BinaryError::BadFlag { index: 0, flag: 2 }));

        let mut trailing = valid.clone();
        trailing.extend_from_slice(&[0, 0]);
        assert_eq!(decode(&trailing), Err(BinaryError::TrailingBytes(2)));
    }

    /// Flipped, truncated and extended encodings: each either fails to decode or is a batch
    /// whose encoding is exactly those bytes (the format is canonical), and nothing panics.
    #[test]
    fn mutations_are_refused_or_canonical() {
        let mut rng = StdRng::seed_from_u64(7);
        let valid = encode(&sample());
        let check = |bytes: &[u8]| {
            if let Ok(batch) = decode_batch(bytes, 4096) {
                assert_eq!(encode(&batch), bytes, "a second encoding of {batch:?}");
            }
        };
        for cut in 0..valid.len() {
            check(&valid[..cut]);
        }
        for position in 0..valid.len() {
            for bit in 0..8 {
                let mut flipped = valid.clone();
                flipped[position] ^= 1 << bit;
                check(&flipped);
            }
        }
        for _ in 0..5_000 {
            let mut mutated = valid.clone();
            for _ in 0..rng.random_range(1..4) {
                match rng.random_range(0..4) {
                    0 => {
                        let at = rng.random_range(0..mutated.len());
                        mutated[at] = rng.random();
                    }
                    1 => mutated.truncate(rng.random_range(0..mutated.len())),
                    2 => mutated.extend((0..rng.random_range(1..80)).map(|_| rng.random::<u8>())),
                    _ => {
                        let at = rng.random_range(0..=mutated.len());
                        mutated.insert(at, rng.random());
                    }
                }
                if mutated.is_empty() {
                    mutated.push(0);
                }
            }
            check(&mutated);
        }
    }
}
