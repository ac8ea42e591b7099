//! Misuse that must not compile: mixing key types, and attribute mistakes the derive rejects
//! with a clear message. Run with `cargo test --test compile_fail`; refresh the expected
//! output with `TRYBUILD=overwrite`.

#[test]
fn compile_fail() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/compile_fail/*.rs");
}
