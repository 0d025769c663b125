//! A batch of writes, then a watch that resumes after a reconnect without missing a change:
//!     cargo run --offline --example batch_watch -- /run/meshd/n1.sock
use meshclient::{BatchOp, Client, WatchFrom};

#[tokio::main(flavor = "current_thread")]
async fn main() -> meshclient::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/run/meshd/n1.sock".into());
    let c = Client::connect(&path).await?;
    if let Some(h) = c.node_info() {
        println!(
            "node: {} generation {} max_batch {}",
            h.node, h.generation, h.max_batch
        );
    }
    // 1000 puts: the client splits them into BatchReqs of at most max_batch ops
    let ops = (0..1000)
        .map(|i| BatchOp::put(format!("worker:ex-{:04}", i), format!("{}", i)))
        .collect();
    let refused = c.batch(ops).await?.iter().filter(|r| !r.is_ok()).count();
    println!("batch: 1000 puts, {} refused", refused);

    // a watch from a snapshot; remember where it stood, then "lose the connection"
    let mut w = c.watch_from("worker:ex-", WatchFrom::Snapshot).await?;
    let mut n = 0;
    while let Some(ev) = w.next().await {
        n += ev.snapshot as usize;
        if ev.snapshot_end {
            break;
        }
    }
    println!("snapshot: {} keys", n);
    let resume = w.resume_point();
    drop(w);
    drop(c);

    // written while nobody watched
    let c = Client::connect(&path).await?;
    c.batch(vec![
        BatchOp::put("worker:ex-0001", "changed"),
        BatchOp::delete("worker:ex-0002"),
    ])
    .await?;
    let mut w = c.watch_from("worker:ex-", resume).await?;
    println!("resumed: {} missed: {}", w.resumed(), w.missed());
    for _ in 0..2 {
        if let Some(ev) = w.next().await {
            println!(
                "change: {} {} (seq {})",
                String::from_utf8_lossy(&ev.key),
                if ev.tombstone {
                    "deleted".into()
                } else {
                    String::from_utf8_lossy(&ev.value).into_owned()
                },
                ev.seq
            );
        }
    }
    w.unsubscribe().await
}
