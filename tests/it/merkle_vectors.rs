//! Conformance of `auditlens::merkle` with RFC 6962 / RFC 9162: the transparency-dev/merkle proof vectors and
//! reference tree (tests/fixtures/vectors/merkle, see its SOURCE.txt), a naive recursive implementation of the
//! RFC 6962 definitions (MTH, PATH, PROOF), malformed input, and property tests over random trees.

use std::fs;
use std::path::{Path, PathBuf};

use auditlens::merkle::{
    Hash, MerkleError, RootBuilder, consistency_proof, empty_root, hash_from_slice,
    inclusion_proof_len, inclusion_proofs, inclusion_proofs_and_root, leaf_hash, node_hash,
    root_from_leaves, to_hex, verify_consistency, verify_inclusion,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------------------
// Naive reference: the recursive definitions of RFC 6962 section 2.1, written straight from the text.

fn largest_power_of_two_below(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]).
fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => empty_root(),
        1 => d[0],
        n => {
            let k = largest_power_of_two_below(n);
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

/// PATH(m, D[n]).
fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = largest_power_of_two_below(n);
    let mut out;
    if m < k {
        out = path(m, &d[..k]);
        out.push(mth(&d[k..]));
    } else {
        out = path(m - k, &d[k..]);
        out.push(mth(&d[..k]));
    }
    out
}

/// SUBPROOF(m, D[n], b).
fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { Vec::new() } else { vec![mth(d)] };
    }
    let k = largest_power_of_two_below(n);
    let mut out;
    if m <= k {
        out = subproof(m, &d[..k], b);
        out.push(mth(&d[k..]));
    } else {
        out = subproof(m - k, &d[k..], false);
        out.push(mth(&d[..k]));
    }
    out
}

fn numbered_leaves(n: usize) -> Vec<Hash> {
    (0..n as u64)
        .map(|i| leaf_hash(format!("event {i}").as_bytes()))
        .collect()
}

fn flip_bit(h: &Hash, bit: usize) -> Hash {
    let mut out = *h;
    out[bit / 8 % 32] ^= 1 << (bit % 8);
    out
}

// ---------------------------------------------------------------------------------------------------------
// Fixture loading.

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vectors/merkle")
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).expect("vector directory is readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn load(path: &Path) -> Value {
    let text = fs::read_to_string(path).expect("vector is readable");
    serde_json::from_str(&text).expect("vector is JSON")
}

fn b64(value: &Value) -> Vec<u8> {
    STANDARD
        .decode(value.as_str().unwrap_or(""))
        .expect("vector field is base64")
}

fn b64_list(value: &Value) -> Vec<Vec<u8>> {
    match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().map(b64).collect(),
        other => panic!("proof is neither null nor a list: {other}"),
    }
}

fn hashes(raw: &[Vec<u8>]) -> Result<Vec<Hash>, MerkleError> {
    raw.iter().map(|h| hash_from_slice(h)).collect()
}

fn hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

fn reference_leaves() -> (Vec<Hash>, Vec<String>) {
    let tree = load(&vectors_dir().join("rfc6962_reference_tree.json"));
    let leaves = tree["leaf_inputs_hex"]
        .as_array()
        .expect("leaf inputs")
        .iter()
        .map(|v| leaf_hash(&hex_bytes(v.as_str().expect("hex string"))))
        .collect();
    let roots = tree["root_hashes_hex_by_tree_size"]
        .as_array()
        .expect("roots")
        .iter()
        .map(|v| v.as_str().expect("hex string").to_owned())
        .collect();
    (leaves, roots)
}

// ---------------------------------------------------------------------------------------------------------
// Vectors.

#[test]
fn reference_tree_roots_match_for_sizes_zero_to_eight() {
    let (leaves, roots) = reference_leaves();
    assert_eq!(leaves.len(), 8);
    assert_eq!(roots.len(), 9);
    let mut builder = RootBuilder::new();
    for (size, expected) in roots.iter().enumerate() {
        assert_eq!(
            &to_hex(&root_from_leaves(&leaves[..size])),
            expected,
            "size {size}"
        );
        assert_eq!(&to_hex(&builder.root()), expected, "builder at size {size}");
        assert_eq!(builder.size(), size as u64);
        if let Some(leaf) = leaves.get(size) {
            builder.push(*leaf);
        }
    }
}

/// Runs one inclusion vector through the typed API. A leaf, root or proof element that is not 32 bytes is
/// rejected when it is converted to a `Hash`, as transparency-dev rejects it.
fn check_inclusion_vector(v: &Value) -> Result<(), MerkleError> {
    let index = v["leafIdx"].as_u64().expect("leafIdx");
    let size = v["treeSize"].as_u64().expect("treeSize");
    let leaf = hash_from_slice(&b64(&v["leafHash"]))?;
    let root = hash_from_slice(&b64(&v["root"]))?;
    let proof = hashes(&b64_list(&v["proof"]))?;
    verify_inclusion(&leaf, index, size, &proof, &root)
}

#[test]
fn every_inclusion_vector_is_accepted_or_rejected_as_specified() {
    let (leaves, _) = reference_leaves();
    let files = json_files(&vectors_dir().join("testdata/inclusion"));
    assert_eq!(files.len(), 98, "all copied inclusion vectors are found");
    let (mut accepted, mut rejected, mut regenerated) = (0, 0, 0);
    for file in &files {
        let v = load(file);
        let want_err = v["wantErr"].as_bool().expect("wantErr");
        let result = check_inclusion_vector(&v);
        assert_eq!(result.is_err(), want_err, "{}: {result:?}", file.display());
        if want_err {
            rejected += 1;
            continue;
        }
        accepted += 1;
        // Happy paths on the reference tree: our prover must produce exactly the published proof.
        let index = v["leafIdx"].as_u64().expect("leafIdx");
        let size = v["treeSize"].as_u64().expect("treeSize");
        let leaf = hash_from_slice(&b64(&v["leafHash"])).expect("leaf");
        if leaves.get(index as usize) == Some(&leaf) && size <= 8 {
            let prefix = leaves[..size as usize].to_vec();
            let (root, proofs) = inclusion_proofs_and_root(size, prefix, &[index]).expect("proof");
            assert_eq!(proofs, vec![hashes(&b64_list(&v["proof"])).expect("proof")]);
            assert_eq!(root.to_vec(), b64(&v["root"]), "{}", file.display());
            regenerated += 1;
        }
    }
    assert_eq!((accepted, rejected), (6, 92));
    assert_eq!(
        regenerated, 5,
        "the five happy paths on the reference tree are regenerated"
    );
}

/// Consistency vectors in `additional/` use 12-byte placeholder roots ("don't care 1"/"don't care 2") where
/// only their equality matters; transparency-dev compares them as bytes. The typed API takes 32-byte roots,
/// so placeholders are zero-padded, which keeps equal ones equal and different ones different. Proof elements
/// are never padded: one that is not 32 bytes is rejected.
fn root_for_consistency(raw: &[u8]) -> Hash {
    assert!(
        raw.len() <= 32,
        "root longer than a hash: {} bytes",
        raw.len()
    );
    let mut out = [0u8; 32];
    out[..raw.len()].copy_from_slice(raw);
    out
}

fn check_consistency_vector(v: &Value) -> Result<(), MerkleError> {
    let size1 = v["size1"].as_u64().expect("size1");
    let size2 = v["size2"].as_u64().expect("size2");
    let root1 = root_for_consistency(&b64(&v["root1"]));
    let root2 = root_for_consistency(&b64(&v["root2"]));
    let proof = hashes(&b64_list(&v["proof"]))?;
    verify_consistency(size1, size2, &proof, &root1, &root2)
}

#[test]
fn every_consistency_vector_is_accepted_or_rejected_as_specified() {
    let (leaves, _) = reference_leaves();
    let files = json_files(&vectors_dir().join("testdata/consistency"));
    assert_eq!(files.len(), 98, "all copied consistency vectors are found");
    let (mut accepted, mut rejected, mut regenerated) = (0, 0, 0);
    for file in &files {
        let v = load(file);
        let want_err = v["wantErr"].as_bool().expect("wantErr");
        let result = check_consistency_vector(&v);
        assert_eq!(result.is_err(), want_err, "{}: {result:?}", file.display());
        if want_err {
            rejected += 1;
            continue;
        }
        accepted += 1;
        let size1 = v["size1"].as_u64().expect("size1");
        let size2 = v["size2"].as_u64().expect("size2");
        if b64(&v["root2"]).len() == 32 && size2 <= 8 {
            let prefix = leaves[..size2 as usize].to_vec();
            let proof = consistency_proof(size1, size2, prefix).expect("proof");
            assert_eq!(
                proof,
                hashes(&b64_list(&v["proof"])).expect("proof"),
                "{}",
                file.display()
            );
            regenerated += 1;
        }
    }
    assert_eq!((accepted, rejected), (6, 92));
    assert_eq!(
        regenerated, 5,
        "the five happy paths on the reference tree are regenerated"
    );
}

#[test]
fn mutated_vectors_fail_for_the_reason_they_were_mutated() {
    let dir = vectors_dir().join("testdata");
    let inclusion = |name: &str| check_inclusion_vector(&load(&dir.join("inclusion").join(name)));
    assert!(matches!(
        inclusion("1/leafIdx-plus-@1.json"),
        Err(MerkleError::RootMismatch { .. })
    ));
    assert!(matches!(
        inclusion("0/leafIdx-sub-@1.json"),
        Err(MerkleError::IndexOutOfRange { .. })
    ));
    assert!(matches!(
        inclusion("1/trailing-garbage.json"),
        Err(MerkleError::InvalidHashLength { found: 0 })
    ));
    assert!(matches!(
        inclusion("1/removed-component.json"),
        Err(MerkleError::WrongProofLength {
            expected: 3,
            found: 2
        })
    ));
    assert!(matches!(
        inclusion("1/inserted-component.json"),
        Err(MerkleError::WrongProofLength {
            expected: 3,
            found: 4
        })
    ));
    // "V3JvbmdMZWFm" is the 9 bytes "WrongLeaf", not a hash at all.
    assert_eq!(
        inclusion("1/wrong-leaf.json"),
        Err(MerkleError::InvalidHashLength { found: 9 })
    );
    assert!(matches!(
        inclusion("1/random-root.json"),
        Err(MerkleError::RootMismatch { .. })
    ));
    assert!(matches!(
        inclusion("1/treeSize-mul-@2.json"),
        Err(MerkleError::WrongProofLength { .. })
    ));

    let consistency =
        |name: &str| check_consistency_vector(&load(&dir.join("consistency").join(name)));
    // 6 -> 8: the old root is recomputed from the proof and compared.
    assert!(matches!(
        consistency("2/wrong-root1.json"),
        Err(MerkleError::OldRootMismatch { .. })
    ));
    // 1 -> 8: size1 is a power of two, so root1 seeds the proof and the new root comes out wrong instead.
    assert!(matches!(
        consistency("1/wrong-root1.json"),
        Err(MerkleError::RootMismatch { .. })
    ));
    assert!(matches!(
        consistency("1/wrong-root2.json"),
        Err(MerkleError::RootMismatch { .. })
    ));
    assert!(matches!(
        consistency("1/truncated-proof.json"),
        Err(MerkleError::WrongProofLength { .. })
    ));
    assert_eq!(
        consistency("additional/sizes-are-equal-zero-and-proof-is-empty.json"),
        Err(MerkleError::EmptyOldTree)
    );
    assert_eq!(
        consistency("additional/size1-is-greater-than-size2.json"),
        Err(MerkleError::SizeDecreased { size1: 1, size2: 0 })
    );
}

// ---------------------------------------------------------------------------------------------------------
// Agreement with the naive reference.

#[test]
fn root_builder_agrees_with_root_from_leaves_and_the_naive_root_up_to_300_leaves() {
    let leaves = numbered_leaves(300);
    let mut builder = RootBuilder::new();
    for size in 0..=300 {
        let prefix = &leaves[..size];
        assert_eq!(builder.size(), size as u64);
        assert_eq!(builder.root(), root_from_leaves(prefix), "size {size}");
        assert_eq!(builder.root(), mth(prefix), "size {size}");
        // root() does not consume or disturb the builder.
        assert_eq!(builder.root(), builder.root());
        if let Some(leaf) = leaves.get(size) {
            builder.push(*leaf);
        }
    }
}

#[test]
fn inclusion_proofs_agree_with_the_naive_path_and_verify_for_every_index_up_to_70_leaves() {
    for size in 1..=70usize {
        let leaves = numbered_leaves(size);
        let root = mth(&leaves);
        let indices: Vec<u64> = (0..size as u64).collect();
        let (streamed_root, proofs) =
            inclusion_proofs_and_root(size as u64, leaves.iter().copied(), &indices)
                .expect("proofs");
        assert_eq!(streamed_root, root, "size {size}");
        for (index, proof) in proofs.iter().enumerate() {
            assert_eq!(proof, &path(index, &leaves), "index {index}, size {size}");
            assert_eq!(
                inclusion_proof_len(index as u64, size as u64),
                Ok(proof.len())
            );
            assert_eq!(
                verify_inclusion(&leaves[index], index as u64, size as u64, proof, &root),
                Ok(()),
                "index {index}, size {size}"
            );
            // The same proof does not prove a different leaf at that index.
            let other = leaf_hash(b"not in the tree");
            assert!(matches!(
                verify_inclusion(&other, index as u64, size as u64, proof, &root),
                Err(MerkleError::RootMismatch { .. })
            ));
        }
    }
}

#[test]
fn unsorted_and_repeated_indices_each_get_their_own_proof() {
    let leaves = numbered_leaves(37);
    let indices = [36, 0, 17, 17, 5, 36, 1, 0];
    let proofs = inclusion_proofs(37, leaves.clone(), &indices).expect("proofs");
    assert_eq!(proofs.len(), indices.len());
    for (proof, &index) in proofs.iter().zip(&indices) {
        assert_eq!(proof, &path(index as usize, &leaves), "index {index}");
    }
    assert_eq!(inclusion_proofs(37, leaves, &[]), Ok(Vec::new()));
}

#[test]
fn consistency_proofs_agree_with_the_naive_subproof_and_verify_up_to_40_leaves() {
    let leaves = numbered_leaves(40);
    for size2 in 1..=40usize {
        let root2 = mth(&leaves[..size2]);
        for size1 in 1..=size2 {
            let root1 = mth(&leaves[..size1]);
            let proof =
                consistency_proof(size1 as u64, size2 as u64, leaves[..size2].iter().copied())
                    .expect("proof");
            assert_eq!(
                proof,
                subproof(size1, &leaves[..size2], true),
                "{size1} -> {size2}"
            );
            assert_eq!(
                verify_consistency(size1 as u64, size2 as u64, &proof, &root1, &root2),
                Ok(()),
                "{size1} -> {size2}"
            );
            // A wrong old root or new root is caught.
            let wrong = flip_bit(&root1, 3);
            assert!(
                verify_consistency(size1 as u64, size2 as u64, &proof, &wrong, &root2).is_err()
            );
            let wrong = flip_bit(&root2, 200);
            assert!(
                verify_consistency(size1 as u64, size2 as u64, &proof, &root1, &wrong).is_err()
            );
            // So is every tampered proof element.
            for i in 0..proof.len() {
                let mut tampered = proof.clone();
                tampered[i] = flip_bit(&tampered[i], i * 7);
                assert!(
                    verify_consistency(size1 as u64, size2 as u64, &tampered, &root1, &root2)
                        .is_err(),
                    "{size1} -> {size2}, element {i}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Malformed input: errors, never panics.

#[test]
fn wrong_proof_lengths_are_reported_with_the_expected_length() {
    let leaves = numbered_leaves(11);
    let root = mth(&leaves);
    let proof = path(4, &leaves);
    assert_eq!(proof.len(), 4);
    let mut longer = proof.clone();
    longer.push(root);
    assert_eq!(
        verify_inclusion(&leaves[4], 4, 11, &longer, &root),
        Err(MerkleError::WrongProofLength {
            expected: 4,
            found: 5
        })
    );
    assert_eq!(
        verify_inclusion(&leaves[4], 4, 11, &proof[..3], &root),
        Err(MerkleError::WrongProofLength {
            expected: 4,
            found: 3
        })
    );
    assert_eq!(
        verify_inclusion(&leaves[4], 4, 11, &[], &root),
        Err(MerkleError::WrongProofLength {
            expected: 4,
            found: 0
        })
    );
    // A single-leaf tree takes an empty proof and nothing else.
    assert_eq!(
        verify_inclusion(&leaves[0], 0, 1, &[leaves[0]], &leaves[0]),
        Err(MerkleError::WrongProofLength {
            expected: 0,
            found: 1
        })
    );
    assert_eq!(verify_inclusion(&leaves[0], 0, 1, &[], &leaves[0]), Ok(()));

    let c = subproof(3, &leaves, true);
    let (root3, mut longer) = (mth(&leaves[..3]), c.clone());
    longer.push(root);
    assert!(matches!(
        verify_consistency(3, 11, &longer, &root3, &root),
        Err(MerkleError::WrongProofLength { found, .. }) if found == c.len() + 1
    ));
    assert!(matches!(
        verify_consistency(3, 11, &[], &root3, &root),
        Err(MerkleError::WrongProofLength { found: 0, .. })
    ));
    assert_eq!(
        verify_consistency(5, 5, &[root], &root, &root),
        Err(MerkleError::WrongProofLength {
            expected: 0,
            found: 1
        })
    );
}

#[test]
fn indices_at_or_beyond_the_size_are_out_of_range() {
    let leaves = numbered_leaves(5);
    let root = mth(&leaves);
    assert_eq!(
        verify_inclusion(&leaves[0], 5, 5, &[], &root),
        Err(MerkleError::IndexOutOfRange { index: 5, size: 5 })
    );
    assert_eq!(
        verify_inclusion(&leaves[0], u64::MAX, 5, &[], &root),
        Err(MerkleError::IndexOutOfRange {
            index: u64::MAX,
            size: 5
        })
    );
    assert_eq!(
        inclusion_proofs(5, leaves.clone(), &[0, 4, 5]),
        Err(MerkleError::IndexOutOfRange { index: 5, size: 5 })
    );
    assert_eq!(
        inclusion_proof_len(9, 9),
        Err(MerkleError::IndexOutOfRange { index: 9, size: 9 })
    );
}

#[test]
fn the_empty_tree_has_no_leaves_to_prove_and_no_consistency_proofs() {
    let e = empty_root();
    assert_eq!(
        verify_inclusion(&e, 0, 0, &[], &e),
        Err(MerkleError::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(
        inclusion_proofs(0, Vec::new(), &[0]),
        Err(MerkleError::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(inclusion_proofs(0, Vec::new(), &[]), Ok(Vec::new()));
    assert_eq!(
        inclusion_proofs_and_root(0, Vec::new(), &[]),
        Ok((e, Vec::new()))
    );
    assert_eq!(
        verify_consistency(0, 0, &[], &e, &e),
        Err(MerkleError::EmptyOldTree)
    );
    assert_eq!(
        verify_consistency(0, 3, &[e], &e, &e),
        Err(MerkleError::EmptyOldTree)
    );
    assert_eq!(
        consistency_proof(0, 3, numbered_leaves(3)),
        Err(MerkleError::EmptyOldTree)
    );
    assert_eq!(
        consistency_proof(4, 3, numbered_leaves(3)),
        Err(MerkleError::SizeDecreased { size1: 4, size2: 3 })
    );
    assert_eq!(
        verify_consistency(4, 3, &[], &e, &e),
        Err(MerkleError::SizeDecreased { size1: 4, size2: 3 })
    );
}

#[test]
fn too_few_or_too_many_leaves_are_detected() {
    let leaves = numbered_leaves(10);
    assert_eq!(
        inclusion_proofs(11, leaves.clone(), &[3]),
        Err(MerkleError::LeafCountMismatch {
            expected: 11,
            found: 10
        })
    );
    assert_eq!(
        inclusion_proofs(9, leaves.clone(), &[3]),
        Err(MerkleError::TooManyLeaves { expected: 9 })
    );
    assert_eq!(
        inclusion_proofs(9, leaves.clone(), &[]),
        Err(MerkleError::TooManyLeaves { expected: 9 })
    );
    assert_eq!(
        inclusion_proofs(0, leaves.clone(), &[]),
        Err(MerkleError::TooManyLeaves { expected: 0 })
    );
    // An endless iterator is stopped at the first extra leaf instead of being drained.
    assert_eq!(
        inclusion_proofs(4, std::iter::repeat(leaves[0]), &[1]),
        Err(MerkleError::TooManyLeaves { expected: 4 })
    );
    assert_eq!(
        consistency_proof(2, 11, leaves.clone()),
        Err(MerkleError::LeafCountMismatch {
            expected: 11,
            found: 10
        })
    );
    assert_eq!(
        consistency_proof(2, 9, leaves.clone()),
        Err(MerkleError::TooManyLeaves { expected: 9 })
    );
    assert_eq!(consistency_proof(10, 10, leaves), Ok(Vec::new()));
}

#[test]
fn mismatch_errors_name_both_roots_in_lowercase_hex() {
    let leaves = numbered_leaves(6);
    let root = mth(&leaves);
    let wrong = flip_bit(&root, 0);
    let err = verify_inclusion(&leaves[2], 2, 6, &path(2, &leaves), &wrong).expect_err("mismatch");
    assert_eq!(
        err,
        MerkleError::RootMismatch {
            expected: to_hex(&wrong),
            computed: to_hex(&root)
        }
    );
    let message = err.to_string();
    assert!(
        message.contains(&to_hex(&wrong)) && message.contains(&to_hex(&root)),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------------------------
// Properties over random trees.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_trees_have_naive_roots_verifiable_proofs_and_tamper_evident_paths(
        data in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..160),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..8),
        flip in any::<prop::sample::Index>(),
        bit in 0usize..256,
        old in any::<prop::sample::Index>(),
    ) {
        let leaves: Vec<Hash> = data.iter().map(|d| leaf_hash(d)).collect();
        let size = leaves.len() as u64;
        let root = mth(&leaves);

        let mut builder = RootBuilder::new();
        for leaf in &leaves {
            builder.push(*leaf);
        }
        prop_assert_eq!(builder.root(), root);
        prop_assert_eq!(root_from_leaves(&leaves), root);

        let indices: Vec<u64> = picks.iter().map(|p| p.index(leaves.len()) as u64).collect();
        let proofs = inclusion_proofs(size, leaves.iter().copied(), &indices).expect("proofs");
        for (proof, &index) in proofs.iter().zip(&indices) {
            prop_assert_eq!(proof, &path(index as usize, &leaves));
            prop_assert_eq!(verify_inclusion(&leaves[index as usize], index, size, proof, &root), Ok(()));
            if !proof.is_empty() {
                let mut tampered = proof.clone();
                let at = flip.index(proof.len());
                tampered[at] = flip_bit(&tampered[at], bit);
                let is_root_mismatch = matches!(
                    verify_inclusion(&leaves[index as usize], index, size, &tampered, &root),
                    Err(MerkleError::RootMismatch { .. })
                );
                prop_assert!(is_root_mismatch);
            }
        }

        let size1 = old.index(leaves.len()) + 1;
        let proof = consistency_proof(size1 as u64, size, leaves.iter().copied()).expect("proof");
        let root1 = mth(&leaves[..size1]);
        prop_assert_eq!(verify_consistency(size1 as u64, size, &proof, &root1, &root), Ok(()));
        if !proof.is_empty() {
            let mut tampered = proof.clone();
            let at = flip.index(proof.len());
            tampered[at] = flip_bit(&tampered[at], bit);
            prop_assert!(verify_consistency(size1 as u64, size, &tampered, &root1, &root).is_err());
        }
    }
}
