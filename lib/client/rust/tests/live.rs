//! meshclient against live nodes: MESH_SOCKS names the control sockets of three nodes of
//! one cluster (tests/integration/test_client_rust.sh starts them and runs `cargo test`).
use std::time::Duration;

use meshclient::{Client, Error};

const BIN_KEY: &[u8] = b"worker:\x00\xff\x01\n rust";

fn socks() -> Vec<String> {
    let s = std::env::var("MESH_SOCKS")
        .expect("MESH_SOCKS unset: run through tests/integration/test_client_rust.sh");
    let v: Vec<String> = s.split(':').map(String::from).collect();
    assert_eq!(v.len(), 3, "MESH_SOCKS must name 3 control sockets");
    v
}

async fn clients() -> Vec<Client> {
    let mut out = Vec::new();
    for s in socks() {
        out.push(
            Client::connect(&s)
                .await
                .expect("connect")
                .with_timeout(Duration::from_secs(10)),
        );
    }
    out
}

fn bin_value() -> Vec<u8> {
    (0..768u32).map(|i| (i % 256) as u8).collect()
}

fn pseudo_random(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test]
async fn put_get_delete_binary() {
    let c = &clients().await[0];
    c.put(BIN_KEY, bin_value()).await.unwrap();
    let v = c.get(BIN_KEY).await.unwrap().expect("written");
    assert_eq!(v.value, bin_value());
    assert!(v.timestamp > 0);
    c.delete(BIN_KEY).await.unwrap();
    assert_eq!(c.get(BIN_KEY).await.unwrap(), None);
    assert_eq!(c.get(b"worker:rust-never").await.unwrap(), None);
    let big = pseudo_random(200_000, 7);
    c.put(b"config:rust-big", &big).await.unwrap();
    assert_eq!(c.get(b"config:rust-big").await.unwrap().unwrap().value, big);
}

#[tokio::test]
async fn refusals_carry_the_node_reason() {
    let c = &clients().await[0];
    match c.put(b"nope:x", b"1").await {
        Err(e @ Error::Node { .. }) => {
            assert_eq!(e.errno(), Some(libc::ENXIO));
            assert!(!e.to_string().is_empty());
        }
        other => panic!("unknown namespace accepted: {:?}", other),
    }
    match c.delete(b"rl:x").await {
        Err(e) => assert_eq!(e.errno(), Some(libc::EOPNOTSUPP), "{}", e),
        Ok(()) => panic!("delete on epoch_max accepted"),
    }
    c.put(b"worker:rust-after-refusal", b"ok").await.unwrap();
    assert_eq!(
        c.get(b"worker:rust-after-refusal")
            .await
            .unwrap()
            .unwrap()
            .value,
        b"ok"
    );
}

#[tokio::test]
async fn keys_in_order_with_pages() {
    let c = &clients().await[0];
    let want: Vec<Vec<u8>> = (0..30)
        .map(|i| format!("config:rk-{:02}", i).into_bytes())
        .collect();
    for k in want.iter().rev() {
        c.put(k, b"v").await.unwrap();
    }
    assert_eq!(c.keys_all(b"config:rk-").await.unwrap(), want);
    let p = c.keys(b"config:rk-", b"", 10).await.unwrap();
    assert_eq!((p.keys, p.more), (want[..10].to_vec(), true));
    let p = c.keys(b"config:rk-", &want[24], 10).await.unwrap();
    assert_eq!((p.keys, p.more), (want[25..].to_vec(), false));
}

#[tokio::test]
async fn many_in_flight_from_many_tasks() {
    let c = clients().await.remove(1);
    let mut tasks = Vec::new();
    for i in 0..100 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let k = format!("config:rf-{:03}", i).into_bytes();
            c.put(&k, k.iter().rev().cloned().collect::<Vec<u8>>())
                .await
                .unwrap();
            c.get(&k).await.unwrap().expect("written").value
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let mut k = format!("config:rf-{:03}", i).into_bytes();
        k.reverse();
        assert_eq!(t.await.unwrap(), k);
    }
    assert_eq!(c.keys_all(b"config:rf-").await.unwrap().len(), 100);
}

#[tokio::test]
async fn watch_sees_put_and_delete_on_another_node() {
    let cs = clients().await;
    let mut w = cs[2].watch(b"worker:rw-").await.unwrap();
    cs[0].put(b"worker:rw-1", b"\x00one").await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), w.next())
        .await
        .expect("no event on n3 for a put on n1")
        .expect("watch ended");
    assert_eq!(
        (ev.key.as_slice(), ev.value.as_slice(), ev.tombstone),
        (&b"worker:rw-1"[..], &b"\x00one"[..], false)
    );
    assert!(ev.origin_ns > 0);
    assert_eq!(ev.subscription, w.id());
    cs[0].delete(b"worker:rw-1").await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), w.next())
        .await
        .expect("no event on n3 for a delete on n1")
        .expect("watch ended");
    assert_eq!(
        (ev.key.as_slice(), ev.tombstone),
        (&b"worker:rw-1"[..], true)
    );
    w.unsubscribe().await.unwrap();
}

#[tokio::test]
async fn large_multipart_value_reaches_another_node() {
    let cs = clients().await;
    let big = pseudo_random(1_000_000, 42);
    let mut w = cs[2].watch(b"td:rbig").await.unwrap();
    cs[0].publish(b"td:rbig", &big, None).await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(20), w.next())
        .await
        .expect("no event on n3 for a publish on n1")
        .expect("watch ended");
    assert_eq!(ev.key, b"td:rbig");
    assert_eq!(ev.value.len(), big.len());
    assert!(ev.value == big, "value differs");
    assert_eq!(ev.dropped, 0);
}

#[tokio::test]
async fn members_and_stats() {
    let c = &clients().await[1];
    let mut ms: Vec<(String, String)> = c
        .members()
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.name, m.status))
        .collect();
    ms.sort();
    let alive = |n: &str| (n.to_string(), "alive".to_string());
    assert_eq!(ms, vec![alive("n1"), alive("n2"), alive("n3")]);
    let st = c.stats("crdt").await.unwrap();
    assert!(
        st.iter().any(|s| s.group == "crdt" && s.name == "crdt_put"),
        "{:?}",
        st
    );
    assert_eq!(
        c.stats("no-such-group").await.unwrap_err().errno(),
        Some(libc::ENOENT)
    );
}
