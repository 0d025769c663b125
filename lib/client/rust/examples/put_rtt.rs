//! Round trip of one put, one in flight (bench/cluster/rtt.sh runs it in release):
//!     cargo run --offline --release --example put_rtt -- /run/meshd/n1.sock [COUNT] [GAP_US]
//! Prints one JSON object: p50/p90/p99/max in us over COUNT puts (after 200 not timed),
//! GAP_US apart (0: back to back).
use std::time::{Duration, Instant};

use meshclient::Client;

#[tokio::main(flavor = "current_thread")]
async fn main() -> meshclient::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "/run/meshd/n1.sock".into());
    let count: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(5000).max(1);
    let gap_us: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let c = Client::connect(&path).await?;
    let value = [b'v'; 16];
    for _ in 0..200 {
        c.put(b"config:rtt", value).await?;
    }
    let mut rtt = Vec::with_capacity(count);
    for _ in 0..count {
        if gap_us > 0 {
            std::thread::sleep(Duration::from_micros(gap_us));
        }
        let t = Instant::now();
        c.put(b"config:rtt", value).await?;
        rtt.push(t.elapsed());
    }
    rtt.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{{\"op\": \"put\", \"count\": {}, \"gap_us\": {}, \"p50_us\": {:.1}, \"p90_us\": {:.1}, \
         \"p99_us\": {:.1}, \"max_us\": {:.1}}}",
        count,
        gap_us,
        us(rtt[count / 2]),
        us(rtt[count * 9 / 10]),
        us(rtt[count * 99 / 100]),
        us(rtt[count - 1])
    );
    Ok(())
}
