//! put, get, watch and delete through one node:
//!     cargo run --offline --example put_get -- /run/meshd/n1.sock
use meshclient::Client;

#[tokio::main(flavor = "current_thread")]
async fn main() -> meshclient::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/run/meshd/n1.sock".into());
    let c = Client::connect(&path).await?;
    let mut watch = c.watch(b"worker:example").await?;
    c.put(b"worker:example", b"hello").await?;
    let v = c.get(b"worker:example").await?.expect("just written");
    println!(
        "get: {} (timestamp {})",
        String::from_utf8_lossy(&v.value),
        v.timestamp
    );
    if let Some(ev) = watch.next().await {
        println!(
            "event: {} = {}",
            String::from_utf8_lossy(&ev.key),
            String::from_utf8_lossy(&ev.value)
        );
    }
    c.delete(b"worker:example").await?;
    for m in c.members().await? {
        println!("member: {} {} {}", m.name, m.address, m.status);
    }
    watch.unsubscribe().await
}
