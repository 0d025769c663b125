//! A saturating batched, pipelined writer: the Rust twin of bench/cluster/mesh_blast
//! (bench/cluster/throughput.sh --writer rust runs it in release):
//!     cargo run --offline --release --example blast -- [--conns C] [--batch B]
//!         [--inflight W] [--value-bytes V] [--count N] [--prefix P] SOCKET
//! C connections, each with W batches of B puts in flight (tasks on one tokio thread, as
//! in an async gateway); keys P<conn>-<seq>. Prints one JSON object with mesh_blast's
//! fields: ops (puts accepted), errors, busy (always 0: the client retries BUSY itself),
//! failed (batches refused whole), seconds, ops_per_s, batch round trips (p50/p99 ms)
//! and the writer's own CPU seconds.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meshclient::{BatchOp, Client};

struct Opts {
    conns: u64,
    batch: u64,
    inflight: u64,
    value_bytes: usize,
    count: u64,
    prefix: String,
    socket: String,
}

fn parse() -> Opts {
    let mut o = Opts {
        conns: 2,
        batch: 1024,
        inflight: 4,
        value_bytes: 16,
        count: 1_000_000,
        prefix: "worker:blast/".into(),
        socket: "/run/meshd/n1.sock".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = || -> u64 {
            args.next().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
                eprintln!("blast: {a} needs a number");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--conns" => o.conns = num().max(1),
            "--batch" => o.batch = num().clamp(1, 4096),
            "--inflight" => o.inflight = num().clamp(1, 256),
            "--value-bytes" => o.value_bytes = num() as usize,
            "--count" => o.count = num(),
            "--prefix" => o.prefix = args.next().unwrap_or_default(),
            s if !s.starts_with("--") => o.socket = s.into(),
            s => {
                eprintln!("blast: unknown option {s}");
                std::process::exit(2)
            }
        }
    }
    o
}

/// User + system CPU seconds of this process.
fn cpu_seconds() -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

#[derive(Default)]
struct Totals {
    ops: AtomicU64,
    errors: AtomicU64,
    failed: AtomicU64,
    rtt: Mutex<Vec<Duration>>,
}

/// One pipeline slot of connection @conn: takes the next batch of that connection's share
/// until it is written.
async fn slot(c: Client, o: Arc<Opts>, conn: u64, next: Arc<AtomicU64>, share: u64, t: Arc<Totals>) {
    let value = vec![b'v'; o.value_bytes];
    loop {
        let first = next.fetch_add(o.batch, Ordering::Relaxed);
        if first >= share {
            return;
        }
        let n = o.batch.min(share - first);
        let ops = (first..first + n)
            .map(|s| BatchOp::put(format!("{}{}-{}", o.prefix, conn, s), &value))
            .collect();
        let t0 = Instant::now();
        match c.batch(ops).await {
            Ok(res) => {
                let ok = res.iter().filter(|r| r.is_ok()).count() as u64;
                t.ops.fetch_add(ok, Ordering::Relaxed);
                t.errors.fetch_add(res.len() as u64 - ok, Ordering::Relaxed);
            }
            Err(_) => {
                t.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        t.rtt.lock().unwrap().push(t0.elapsed());
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> meshclient::Result<()> {
    let o = Arc::new(parse());
    let t = Arc::new(Totals::default());
    let mut clients = Vec::new();
    for _ in 0..o.conns {
        let c = Client::connect(&o.socket).await?.with_timeout(Duration::from_secs(30));
        c.hello().await?;
        clients.push(c);
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (conn, c) in clients.into_iter().enumerate() {
        let conn = conn as u64;
        let share = o.count / o.conns + u64::from(conn < o.count % o.conns);
        let next = Arc::new(AtomicU64::new(0));
        for _ in 0..o.inflight {
            tasks.push(tokio::spawn(slot(c.clone(), o.clone(), conn, next.clone(), share, t.clone())));
        }
    }
    for task in tasks {
        let _ = task.await;
    }
    let secs = start.elapsed().as_secs_f64();
    let mut rtt = std::mem::take(&mut *t.rtt.lock().unwrap());
    rtt.sort();
    let ms = |q: usize| rtt.get(q.min(rtt.len().saturating_sub(1))).map_or(0.0, |d| d.as_secs_f64() * 1e3);
    let ops = t.ops.load(Ordering::Relaxed);
    println!(
        "{{\"writer\": \"rust\", \"rate\": 0, \"conns\": {}, \"batch\": {}, \"inflight\": {}, \
         \"value_bytes\": {}, \"count\": {}, \"ops\": {}, \"errors\": {}, \"busy\": 0, \
         \"failed\": {}, \"seconds\": {:.4}, \"ops_per_s\": {:.0}, \"batches\": {}, \
         \"batch_rtt_ms\": {{\"p50\": {:.3}, \"p99\": {:.3}}}, \"writer_cpu_s\": {:.4}}}",
        o.conns,
        o.batch,
        o.inflight,
        o.value_bytes,
        o.count,
        ops,
        t.errors.load(Ordering::Relaxed),
        t.failed.load(Ordering::Relaxed),
        secs,
        ops as f64 / secs.max(1e-9),
        rtt.len(),
        ms(rtt.len() / 2),
        ms(rtt.len() * 99 / 100),
        cpu_seconds()
    );
    Ok(())
}
