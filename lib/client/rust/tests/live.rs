//! meshclient against live nodes: MESH_SOCKS names the control sockets of three nodes of
//! one cluster of four (tests/integration/test_client_rust.sh starts them and runs
//! `cargo test`; the fourth node is for tests/owner_kill.rs, run after these).
use std::collections::BTreeMap;
use std::time::Duration;

use meshclient::{BatchOp, Client, Error, ErrorCode, Event, MemberEventKind, Watch, WatchFrom};

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
            assert_eq!(e.code(), Some(ErrorCode::NoNamespace));
            assert!(!e.to_string().is_empty());
        }
        other => panic!("unknown namespace accepted: {:?}", other),
    }
    match c.delete(b"rl:x").await {
        Err(e) => {
            assert_eq!(e.errno(), Some(libc::EOPNOTSUPP), "{}", e);
            assert_eq!(e.code(), Some(ErrorCode::Unsupported), "{}", e);
        }
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
    // every node is a member, alive (a loaded machine may briefly suspect one)
    let names: Vec<&str> = ms.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["n1", "n2", "n3", "n4"]);
    assert!(ms.iter().all(|(_, s)| s == "alive" || s == "suspect"), "{:?}", ms);
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

async fn next_event(w: &mut Watch, secs: u64) -> Option<Event> {
    tokio::time::timeout(Duration::from_secs(secs), w.next())
        .await
        .ok()
        .flatten()
}

#[tokio::test]
async fn hello_says_what_the_node_serves() {
    let cs = clients().await;
    let h = cs[0].node_info().expect("connect said hello");
    assert_eq!(h.version, 2);
    assert_eq!(h.node, "n1");
    assert!(h.generation > 0);
    assert!(h.max_batch > 0 && h.max_message > 0, "{:?}", h);
    for f in [
        "batch",
        "watch",
        "members_watch",
        "owned",
        "metadata",
        "cluster",
    ] {
        assert!(h.has(f), "feature {} missing: {:?}", f, h.features);
    }
    assert_eq!(cs[1].hello().await.unwrap().node, "n2");
}

#[tokio::test]
async fn batch_puts_gets_deletes_split_above_the_limits() {
    let c = &clients().await[0];
    let max = c.node_info().map(|h| h.max_batch as usize).unwrap_or(256);
    // more ops than one BatchReq takes
    let n = max + 50;
    let ops: Vec<BatchOp> = (0..n)
        .map(|i| BatchOp::put(format!("config:rb-{:05}", i), format!("v{}", i)))
        .collect();
    let res = c.batch(ops).await.unwrap();
    assert_eq!(res.len(), n);
    assert!(
        res.iter().all(|r| r.is_ok()),
        "{:?}",
        res.iter().find(|r| !r.is_ok())
    );
    // mixed ops, one refused in the middle: one result per op, in order
    let res = c
        .batch(vec![
            BatchOp::get("config:rb-00000"),
            BatchOp::put("nope:x", "1"),
            BatchOp::delete("config:rb-00001"),
            BatchOp::get("config:rb-00001"),
            BatchOp::get(format!("config:rb-{:05}", n - 1)),
        ])
        .await
        .unwrap();
    assert_eq!(res.len(), 5);
    assert_eq!(res[0].value.as_ref().unwrap().value, b"v0");
    assert_eq!(res[1].code, ErrorCode::NoNamespace);
    assert_eq!(res[1].status, -libc::ENXIO);
    assert!(res[2].is_ok());
    assert!(res[3].is_ok() && res[3].value.is_none());
    assert_eq!(
        res[4].value.as_ref().unwrap().value,
        format!("v{}", n - 1).into_bytes()
    );
    // more bytes than one socket message: 300 values of 2 KB
    let big: Vec<BatchOp> = (0..300)
        .map(|i| BatchOp::put(format!("config:rbb-{:03}", i), pseudo_random(2048, i)))
        .collect();
    let res = c.batch(big).await.unwrap();
    assert!(res.iter().all(|r| r.is_ok()));
    let gets: Vec<BatchOp> = (0..300)
        .map(|i| BatchOp::get(format!("config:rbb-{:03}", i)))
        .collect();
    let res = c.batch(gets).await.unwrap();
    for (i, r) in res.iter().enumerate() {
        assert_eq!(
            r.value.as_ref().unwrap().value,
            pseudo_random(2048, i as u64)
        );
    }
    // and another node sees the batch
    let c3 = &clients().await[2];
    let mut seen = false;
    for _ in 0..100 {
        if let Some(v) = c3.get(format!("config:rb-{:05}", n - 1)).await.unwrap() {
            assert_eq!(v.value, format!("v{}", n - 1).into_bytes());
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "the batch did not reach n3");
}

#[tokio::test]
async fn pipelined_puts_on_one_connection() {
    let c = clients().await.remove(0);
    let n = 2000usize;
    let t0 = std::time::Instant::now();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..n).step_by(8) {
                c.put(format!("config:rp-{:05}", i), format!("{}", i))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let dt = t0.elapsed();
    println!(
        "pipelined: {} puts in {:?} ({:.0}/s, 8 in flight)",
        n,
        dt,
        n as f64 / dt.as_secs_f64()
    );
    assert_eq!(c.keys_all(b"config:rp-").await.unwrap().len(), n);
}

#[tokio::test]
async fn watch_resumes_with_exactly_the_missed_changes() {
    let c = &clients().await[0];
    let p = b"worker:rr-";
    c.put(b"worker:rr-0", b"before").await.unwrap();
    let mut w = c.watch_from(p, WatchFrom::Snapshot).await.unwrap();
    assert!(w.generation() > 0);
    assert_eq!(w.generation(), c.node_info().unwrap().generation);
    let mut snap = BTreeMap::new();
    loop {
        let ev = next_event(&mut w, 10).await.expect("snapshot event");
        assert!(ev.snapshot || ev.snapshot_end, "{:?}", ev);
        if !ev.key.is_empty() {
            snap.insert(ev.key.clone(), ev.value.clone());
        }
        if ev.snapshot_end {
            break;
        }
    }
    assert_eq!(
        snap.get(&b"worker:rr-0"[..]).map(|v| &v[..]),
        Some(&b"before"[..])
    );
    c.put(b"worker:rr-1", b"one").await.unwrap();
    let ev = next_event(&mut w, 10).await.expect("live event");
    assert_eq!(
        (ev.key.as_slice(), ev.snapshot),
        (&b"worker:rr-1"[..], false)
    );
    assert!(ev.seq > 0);
    assert_eq!(w.last_seq(), ev.seq);
    let from = w.resume_point();
    let gen = w.generation();
    w.unsubscribe().await.unwrap();
    // changes while no watch is open
    c.put(b"worker:rr-2", b"two").await.unwrap();
    c.put(b"worker:rr-3", b"three").await.unwrap();
    c.delete(b"worker:rr-1").await.unwrap();
    c.put(b"config:rr-elsewhere", b"x").await.unwrap();
    let mut w = c.watch_from(p, from).await.unwrap();
    assert!(w.resumed() && !w.missed());
    let mut got = BTreeMap::new();
    while got.len() < 3 {
        let ev = next_event(&mut w, 10)
            .await
            .expect("a change made before the resume");
        assert!(!ev.snapshot, "{:?}", ev);
        assert!(ev.seq > 0);
        assert!(
            got.insert(ev.key.clone(), (ev.value.clone(), ev.tombstone))
                .is_none(),
            "twice: {:?}",
            ev
        );
    }
    let want: BTreeMap<Vec<u8>, (Vec<u8>, bool)> = [
        (b"worker:rr-1".to_vec(), (Vec::new(), true)),
        (b"worker:rr-2".to_vec(), (b"two".to_vec(), false)),
        (b"worker:rr-3".to_vec(), (b"three".to_vec(), false)),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
    assert!(
        next_event(&mut w, 1).await.is_none(),
        "more than the missed changes"
    );
    w.unsubscribe().await.unwrap();
    // a resume point of another life: told so, and a snapshot instead
    let mut w = c
        .watch_from(
            p,
            WatchFrom::Resume {
                generation: gen ^ 0x5a5a_5a5a,
                seq: 1,
            },
        )
        .await
        .unwrap();
    assert!(w.missed() && !w.resumed());
    let mut snap = BTreeMap::new();
    loop {
        let ev = next_event(&mut w, 10)
            .await
            .expect("snapshot after a missed resume");
        assert!(ev.snapshot || ev.snapshot_end, "{:?}", ev);
        if !ev.key.is_empty() && !ev.tombstone {
            snap.insert(ev.key.clone(), ev.value.clone());
        }
        if ev.snapshot_end {
            break;
        }
    }
    let keys: Vec<&[u8]> = snap.keys().map(|k| k.as_slice()).collect();
    assert_eq!(
        keys,
        vec![&b"worker:rr-0"[..], b"worker:rr-2", b"worker:rr-3"]
    );
}

#[tokio::test]
async fn metadata_is_seen_in_members_and_member_events() {
    let cs = clients().await;
    let mut mw = cs[1].members_watch(true).await.unwrap();
    // the snapshot: one join per known member, this node first
    let mut joined = Vec::new();
    while joined.len() < 4 {
        let ev = tokio::time::timeout(Duration::from_secs(10), mw.next())
            .await
            .expect("member snapshot")
            .expect("watch ended");
        assert_eq!(ev.kind, MemberEventKind::Join, "{:?}", ev);
        joined.push(ev.member.name);
    }
    assert_eq!(joined[0], "n2");
    joined.sort();
    assert_eq!(joined, vec!["n1", "n2", "n3", "n4"]);
    cs[0].set_metadata(b"zone=a\x00rust").await.unwrap();
    let ev = loop {
        let ev = tokio::time::timeout(Duration::from_secs(20), mw.next())
            .await
            .expect("no metadata event for n1 on n2")
            .expect("watch ended");
        if ev.kind == MemberEventKind::Metadata && ev.member.name == "n1" {
            break ev;
        }
    };
    assert_eq!(ev.member.metadata, b"zone=a\x00rust");
    let m = cs[1].members().await.unwrap();
    let n1 = m.iter().find(|m| m.name == "n1").unwrap();
    assert_eq!(n1.metadata, b"zone=a\x00rust");
    let too_big = vec![b'x'; 513];
    assert!(cs[0].set_metadata(&too_big).await.is_err());
    mw.unsubscribe().await.unwrap();
}

#[tokio::test]
async fn cluster_state_says_serve() {
    let c = &clients().await[2];
    let s = c.cluster().await.unwrap();
    assert_eq!(
        (s.known, s.reachable, s.alive, s.dead),
        (4, 4, 4, 0),
        "{:?}",
        s
    );
    assert!(s.should_serve);
    assert!((s.reachable_fraction - 1.0).abs() < 1e-9);
    assert!(s.quorum >= 3 && s.quorum <= 4, "{:?}", s);
}

#[tokio::test]
async fn single_put_round_trip() {
    let c = &clients().await[1];
    let mut rtt = Vec::with_capacity(2000);
    for i in 0..2000 {
        let t = std::time::Instant::now();
        c.put(b"config:rtt", format!("{}", i)).await.unwrap();
        rtt.push(t.elapsed());
    }
    rtt.sort();
    println!(
        "single put round trip: p50 {:?} p99 {:?} (2000 puts, one in flight)",
        rtt[rtt.len() / 2],
        rtt[rtt.len() * 99 / 100]
    );
    assert_eq!(c.get(b"config:rtt").await.unwrap().unwrap().value, b"1999");
}

#[tokio::test]
async fn batched_puts_rate() {
    let c = &clients().await[2];
    let n = 20_000;
    let ops: Vec<BatchOp> = (0..n)
        .map(|i| BatchOp::put(format!("config:rbr-{:05}", i), b"0123456789abcdef"))
        .collect();
    let t0 = std::time::Instant::now();
    let res = c.batch(ops).await.unwrap();
    let dt = t0.elapsed();
    assert_eq!(res.len(), n);
    assert!(res.iter().all(|r| r.is_ok()));
    println!(
        "batched: {} puts in {:?} ({:.0}/s, one client)",
        n,
        dt,
        n as f64 / dt.as_secs_f64()
    );
    assert_eq!(c.keys_all(b"config:rbr-").await.unwrap().len(), n);
}
