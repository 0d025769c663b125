//! Owner-bound keys die with their owner: puts with owned = true (single and batched)
//! through node n4 (MESH_SOCK_N4), then n4 is killed with SIGKILL (MESH_PID_N4); a
//! membership watch on n1 sees it dead, and its owned keys are gone on n1 and n2 while its
//! plain keys stay. Run alone, after tests/live.rs (tests/integration/test_client_rust.sh).
use std::time::{Duration, Instant};

use meshclient::{BatchOp, Client, MemberEventKind};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{} unset: run through tests/integration/test_client_rust.sh",
            name
        )
    })
}

async fn until<F, Fut>(secs: u64, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn owner_bound_keys_vanish_when_their_owner_is_killed() {
    let socks: Vec<String> = env("MESH_SOCKS").split(':').map(String::from).collect();
    let pid: i32 = env("MESH_PID_N4").parse().expect("MESH_PID_N4");
    let c4 = Client::connect(env("MESH_SOCK_N4")).await.unwrap();
    let c1 = Client::connect(&socks[0]).await.unwrap();
    let c2 = Client::connect(&socks[1]).await.unwrap();
    let owned: Vec<String> = (0..20).map(|i| format!("worker:ro-{:02}", i)).collect();
    for k in &owned[..10] {
        c4.put_owned(k, b"mine").await.unwrap();
    }
    let res = c4
        .batch(
            owned[10..]
                .iter()
                .map(|k| BatchOp::put_owned(k, b"mine"))
                .collect(),
        )
        .await
        .unwrap();
    assert!(res.iter().all(|r| r.is_ok()));
    c4.put(b"worker:ro-plain", b"stays").await.unwrap();
    // every key reached both survivors
    for c in [&c1, &c2] {
        let last = owned.last().unwrap().clone();
        assert!(
            until(10, || async { c.get(&last).await.unwrap().is_some() }).await,
            "owned keys did not replicate"
        );
        assert!(
            until(10, || async {
                c.get(b"worker:ro-plain").await.unwrap().is_some()
            })
            .await
        );
    }
    let mut mw = c1.members_watch(false).await.unwrap();
    let t0 = Instant::now();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0, "kill -9 n4");
    let dead = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(ev) = mw.next().await {
            if ev.member.name == "n4" && ev.kind == MemberEventKind::Dead {
                return Some(ev);
            }
        }
        None
    })
    .await
    .expect("no dead event for n4 within 60 s")
    .expect("member watch ended");
    println!("n4 dead event after {:?}", t0.elapsed());
    assert_eq!(dead.member.status, "dead");
    for c in [&c1, &c2] {
        let gone = until(20, || async {
            for k in &owned {
                if c.get(k).await.unwrap().is_some() {
                    return false;
                }
            }
            true
        })
        .await;
        assert!(gone, "owned keys of the dead n4 still there");
        assert_eq!(
            c.get(b"worker:ro-plain").await.unwrap().unwrap().value,
            b"stays"
        );
    }
    println!(
        "owned keys gone on n1 and n2 {:?} after the kill",
        t0.elapsed()
    );
    let s = c1.cluster().await.unwrap();
    assert_eq!((s.dead, s.reachable, s.known), (1, 3, 4), "{:?}", s);
    assert!(s.should_serve);
}
