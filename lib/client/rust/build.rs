// Generates the client protocol's types from proto/client.proto with prost-build (protoc
// from protobuf-compiler, or $PROTOC) into OUT_DIR; nothing generated is committed.
fn main() {
    let proto_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../proto");
    let proto = format!("{}/client.proto", proto_dir);
    println!("cargo:rerun-if-changed={}", proto);
    prost_build::Config::new()
        .compile_protos(&[&proto], &[proto_dir])
        .expect("protoc: generating the client protocol from proto/client.proto");
}
