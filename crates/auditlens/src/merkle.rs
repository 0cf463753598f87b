//! RFC 6962 / RFC 9162 (section 2.1) Merkle tree hashing with SHA-256: leaf and node hashes, the tree root
//! computed in a streaming way, inclusion proofs for many leaves in one pass, and inclusion and consistency
//! proof verification.
//!
//! The tree over `n` leaves is the one of RFC 6962 section 2.1: the root of the empty tree is SHA-256 of the
//! empty string, a leaf hash is `SHA-256(0x00 || data)`, an interior node is `SHA-256(0x01 || left || right)`,
//! and a tree of `n > 1` leaves is split at `k`, the largest power of two smaller than `n`.
//!
//! Every node of that tree is identified here by the half-open range of leaves `[start, end)` it covers. Nodes
//! whose width is a power of two are complete subtrees aligned on their width, exactly the ones a binary counter
//! of complete subtrees (the stack of [`RootBuilder`]) forms while leaves are pushed; every other node lies on
//! the right edge and covers `[start, n)`, formed when that stack is folded right to left to get the root. This
//! is what lets [`inclusion_proofs`] and [`consistency_proof`] read the leaves once, in order, with memory that
//! does not grow with `n`.
//!
//! Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 with the edge rules of the transparency-dev
//! reference implementation: the proof length must be exactly the one the sizes imply, and a consistency proof
//! from the empty tree is rejected (even from 0 to 0).
//!
//! Why one file: the streaming root, the proofs and their verification all walk the same node ranges of one
//! tree shape, and a fifth of the file is the tests that tie them together.

use sha2::{Digest, Sha256};

/// A SHA-256 hash: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// Length in bytes of a [`Hash`](type@Hash).
pub const HASH_LEN: usize = 32;

/// Domain-separation prefix of a leaf hash (RFC 6962 section 2.1).
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of an interior node hash (RFC 6962 section 2.1).
const NODE_PREFIX: u8 = 0x01;

/// Why a Merkle computation or proof check failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MerkleError {
    /// A leaf index is not smaller than the tree size (this includes every index of the empty tree).
    #[error("leaf index {index} is out of range for a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    /// A proof does not have the number of hashes the tree sizes imply.
    #[error("the proof has {found} hashes but exactly {expected} are needed for these tree sizes")]
    WrongProofLength { expected: usize, found: usize },
    /// The root computed from an inclusion proof (or the new root computed from a consistency proof, or the
    /// old root given for two trees of equal size) differs from the expected root.
    #[error("root mismatch: expected {expected}, computed {computed}")]
    RootMismatch { expected: String, computed: String },
    /// The old-tree root computed from a consistency proof differs from the given old root.
    #[error("old tree root mismatch: expected {expected}, computed {computed}")]
    OldRootMismatch { expected: String, computed: String },
    /// The leaves ran out before the announced tree size was reached.
    #[error("expected {expected} leaves but only {found} were given")]
    LeafCountMismatch { expected: u64, found: u64 },
    /// More leaves were given than the announced tree size (reading stopped at the first extra leaf).
    #[error("more than the expected {expected} leaves were given")]
    TooManyLeaves { expected: u64 },
    /// A consistency proof was asked for or checked from a larger tree to a smaller one.
    #[error("the old tree size {size1} is larger than the new tree size {size2}")]
    SizeDecreased { size1: u64, size2: u64 },
    /// A consistency proof from the empty tree proves nothing and is rejected (RFC 9162 defines none).
    #[error("a consistency proof from the empty tree is meaningless")]
    EmptyOldTree,
    /// A byte string that should be a SHA-256 hash does not have 32 bytes.
    #[error("a SHA-256 hash has 32 bytes, found {found}")]
    InvalidHashLength { found: usize },
    /// A hexadecimal hash is not 64 hexadecimal digits.
    #[error("invalid hexadecimal hash: {reason}")]
    InvalidHex { reason: String },
    /// Internal invariant broken: a node needed by a proof was not formed while streaming. Never expected.
    #[error("internal error: tree node [{start}, {end}) was not computed")]
    MissingNode { start: u64, end: u64 },
}

/// A node of the tree, as the half-open range of leaf indices `[start, end)` it covers.
type NodeRange = (u64, u64);

/// The leaf hash of `data`: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(data);
    hasher.finalize().into()
}

/// The interior node hash of two children: `SHA-256(0x01 || left || right)`.
#[inline]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut preimage = [0u8; 1 + 2 * HASH_LEN];
    let (prefix, children) = preimage.split_at_mut(1);
    let (left_half, right_half) = children.split_at_mut(HASH_LEN);
    prefix.copy_from_slice(&[NODE_PREFIX]);
    left_half.copy_from_slice(left);
    right_half.copy_from_slice(right);
    Sha256::digest(preimage).into()
}

/// The root of the empty tree: SHA-256 of the empty string (`e3b0c442...b855`).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Lowercase hexadecimal form of a hash (64 characters).
pub fn to_hex(h: &Hash) -> String {
    hex(h)
}

/// Lowercase hexadecimal form of any bytes (a hash, a key fingerprint, a signature).
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 * bytes.len());
    push_hex(&mut out, bytes);
    out
}

/// Appends the lowercase hexadecimal form of `bytes` to `out` (no String of its own: for a buffer reused per row).
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
}

/// Parses 64 hexadecimal digits (either case) into a hash.
pub fn parse_hex(text: &str) -> Result<Hash, MerkleError> {
    if text.len() != 2 * HASH_LEN {
        return Err(MerkleError::InvalidHex {
            reason: format!("expected 64 hexadecimal digits, found {} bytes", text.len()),
        });
    }
    let mut out = [0u8; HASH_LEN];
    for (slot, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        let mut value = 0u8;
        for &digit in pair {
            let nibble = match digit {
                b'0'..=b'9' => digit - b'0',
                b'a'..=b'f' => digit - b'a' + 10,
                b'A'..=b'F' => digit - b'A' + 10,
                _ => {
                    return Err(MerkleError::InvalidHex {
                        reason: format!("{:?} is not a hexadecimal digit", char::from(digit)),
                    });
                }
            };
            value = (value << 4) | nibble;
        }
        *slot = value;
    }
    Ok(out)
}

/// Converts a byte string (for example a decoded base64 field) into a hash, rejecting any length but 32.
pub fn hash_from_slice(bytes: &[u8]) -> Result<Hash, MerkleError> {
    Hash::try_from(bytes).map_err(|_| MerkleError::InvalidHashLength { found: bytes.len() })
}

/// Streaming root computation: push leaf hashes in order, ask for the root at any time.
///
/// Memory is O(log n): one hash per complete subtree of the binary decomposition of the size (at most 64).
/// A push hashes as many nodes as the new leaf completes subtrees (one on average) and never allocates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootBuilder {
    size: u64,
    /// Roots of the complete subtrees, largest (leftmost) first; one per set bit of `size`.
    stack: Vec<Hash>,
}

impl Default for RootBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl RootBuilder {
    /// An empty tree.
    pub fn new() -> Self {
        Self {
            size: 0,
            // The most a u64 size can need: the stack never reallocates afterwards.
            stack: Vec::with_capacity(64),
        }
    }

    /// Appends the next leaf hash (already `leaf_hash`-ed).
    ///
    /// A tree holds at most `u64::MAX` leaves; a push beyond that (2^64 hashes, unreachable in practice) is ignored.
    #[inline]
    pub fn push(&mut self, leaf: Hash) {
        self.push_observed(leaf, |_, _, _| {});
    }

    /// Number of leaves pushed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Root of the leaves pushed so far (the empty root before any push). Does not consume the builder.
    pub fn root(&self) -> Hash {
        self.root_observed(|_, _, _| {})
    }

    /// Like [`RootBuilder::push`], calling `seen(start, end, hash)` for the leaf and every complete subtree the
    /// push forms.
    #[inline]
    fn push_observed(&mut self, leaf: Hash, mut seen: impl FnMut(u64, u64, &Hash)) {
        let index = self.size;
        let Some(end) = index.checked_add(1) else {
            return;
        };
        seen(index, end, &leaf);
        let mut hash = leaf;
        let mut width = 1u64;
        // Each trailing one bit of the old size is a complete subtree of the same width as the one being
        // carried: merge them, like a binary increment. At most 63 merges, so `width` stays below 2^64.
        let mut carry = index;
        while carry & 1 == 1 {
            let Some(left) = self.stack.pop() else {
                break;
            };
            hash = node_hash(&left, &hash);
            width <<= 1;
            seen(end.saturating_sub(width), end, &hash);
            carry >>= 1;
        }
        self.stack.push(hash);
        self.size = end;
    }

    /// Like [`RootBuilder::root`], calling `seen(start, size, hash)` for every right-edge node the fold forms.
    fn root_observed(&self, mut seen: impl FnMut(u64, u64, &Hash)) -> Hash {
        let mut subtrees = self.stack.iter().rev();
        let Some(last) = subtrees.next() else {
            return empty_root();
        };
        let size = self.size;
        let mut hash = *last;
        // The last subtree's width is the lowest set bit of `size`; the ones before it take the next bits.
        let mut higher_bits = size & size.wrapping_sub(1);
        let mut start = higher_bits;
        for left in subtrees {
            let next_higher = higher_bits & higher_bits.wrapping_sub(1);
            let width = higher_bits ^ next_higher;
            higher_bits = next_higher;
            start = start.wrapping_sub(width);
            hash = node_hash(left, &hash);
            seen(start, size, &hash);
        }
        hash
    }
}

/// Leaves per block of [`BlockHashes`]: the store keeps the hash of every 1,024 leaves of an archive
/// (docs/trust-policy.md section 4b).
pub const BLOCK_LEAVES: u64 = 1024;

/// The hashes of a tree's aligned blocks of `block` leaves, as the leaves stream: block `k` is the subtree over
/// leaves `[k * block, (k + 1) * block)`, the last one over what remains. With RFC 6962's split (the largest power
/// of two below the size), every block is a node of the tree, so the blocks alone give its root
/// ([`root_from_blocks`]), and one block's leaves give that block's hash.
#[derive(Debug, Clone)]
pub struct BlockHashes {
    block: u64,
    current: RootBuilder,
    /// The hashes of the blocks completed so far, 32 bytes each.
    done: Vec<u8>,
}

impl BlockHashes {
    /// `block` must be a power of two (see [`BLOCK_LEAVES`]).
    pub fn new(block: u64) -> BlockHashes {
        debug_assert!(block.is_power_of_two());
        BlockHashes {
            block: block.max(1),
            current: RootBuilder::new(),
            done: Vec::new(),
        }
    }

    /// Appends the next leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        self.current.push(leaf);
        if self.current.size() == self.block {
            self.done.extend_from_slice(&self.current.root());
            self.current = RootBuilder::new();
        }
    }

    /// Every block's hash, 32 bytes each, the last one over the leaves after the last whole block.
    pub fn finish(mut self) -> Vec<u8> {
        if self.current.size() > 0 {
            self.done.extend_from_slice(&self.current.root());
        }
        self.done
    }
}

/// The root of a tree of `size` leaves from its blocks' hashes (`blocks`: 32 bytes each, as
/// [`BlockHashes::finish`] gives them, `block` a power of two), or `None` when there are not exactly as many
/// blocks as `size` leaves make.
pub fn root_from_blocks(blocks: &[u8], size: u64, block: u64) -> Option<Hash> {
    if !block.is_power_of_two() || !blocks.len().is_multiple_of(HASH_LEN) {
        return None;
    }
    let count = (blocks.len() / HASH_LEN) as u64;
    if count != size.div_ceil(block) {
        return None;
    }
    if size == 0 {
        return Some(empty_root());
    }
    // The tree hash of leaves [lo, hi): a block when it fits in one (its start is always a block's), else
    // RFC 6962's split at the largest power of two below its width.
    fn subtree(blocks: &[u8], lo: u64, hi: u64, block: u64) -> Hash {
        if hi - lo <= block {
            let at = (lo / block) as usize * HASH_LEN;
            let mut h = [0u8; HASH_LEN];
            h.copy_from_slice(&blocks[at..at + HASH_LEN]);
            return h;
        }
        let k = 1u64 << (63 - (hi - lo - 1).leading_zeros());
        node_hash(
            &subtree(blocks, lo, lo + k, block),
            &subtree(blocks, lo + k, hi, block),
        )
    }
    Some(subtree(blocks, 0, size, block))
}

/// Root of the tree over `leaves` (leaf hashes, in order).
pub fn root_from_leaves(leaves: &[Hash]) -> Hash {
    let mut builder = RootBuilder::new();
    for leaf in leaves {
        builder.push(*leaf);
    }
    builder.root()
}

/// Inclusion proofs for many leaves in one streaming pass over the leaves: O(k log n) memory, O(n) hashing.
///
/// `leaves` must yield exactly `size` leaf hashes, in order. `proofs[j]` is the RFC 6962 audit path of
/// `indices[j]`, ordered from the leaf's sibling up to the root's child. Indices may be unsorted or repeated.
pub fn inclusion_proofs<I: IntoIterator<Item = Hash>>(
    size: u64,
    leaves: I,
    indices: &[u64],
) -> Result<Vec<Vec<Hash>>, MerkleError> {
    inclusion_proofs_and_root(size, leaves, indices).map(|(_, proofs)| proofs)
}

/// Like [`inclusion_proofs`], also returning the root of the tree computed in the same pass.
pub fn inclusion_proofs_and_root<I: IntoIterator<Item = Hash>>(
    size: u64,
    leaves: I,
    indices: &[u64],
) -> Result<(Hash, Vec<Vec<Hash>>), MerkleError> {
    if let Some(&index) = indices.iter().find(|&&index| index >= size) {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let mut wanted = WantedNodes::new(
        indices
            .iter()
            .flat_map(|&index| inclusion_ranges(index, size))
            .collect(),
    );
    let root = stream_nodes(size, leaves, &mut wanted)?;
    let proofs = indices
        .iter()
        .map(|&index| wanted.assemble(&inclusion_ranges(index, size)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((root, proofs))
}

/// The RFC 6962 consistency proof `PROOF(size1, D[size2])` between the tree of the first `size1` leaves and
/// the tree of all `size2` leaves, in one streaming pass; `leaves` must yield exactly `size2` leaf hashes.
///
/// Requires `0 < size1 <= size2`; the proof is empty when the sizes are equal.
pub fn consistency_proof<I: IntoIterator<Item = Hash>>(
    size1: u64,
    size2: u64,
    leaves: I,
) -> Result<Vec<Hash>, MerkleError> {
    if size1 > size2 {
        return Err(MerkleError::SizeDecreased { size1, size2 });
    }
    if size1 == 0 {
        return Err(MerkleError::EmptyOldTree);
    }
    let ranges = consistency_ranges(size1, size2);
    let mut wanted = WantedNodes::new(ranges.clone());
    stream_nodes(size2, leaves, &mut wanted)?;
    wanted.assemble(&ranges)
}

/// Checks that `proof` proves `leaf` (a leaf hash) is at `index` in the tree of `size` leaves with root `root`
/// (RFC 9162 section 2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), MerkleError> {
    let computed = root_from_inclusion_proof(leaf, index, size, proof)?;
    if computed == *root {
        Ok(())
    } else {
        Err(MerkleError::RootMismatch {
            expected: to_hex(root),
            computed: to_hex(&computed),
        })
    }
}

/// The root an inclusion proof leads to, after checking the index and the proof length.
pub fn root_from_inclusion_proof(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose_inclusion(index, size);
    let (inner_part, border_part) = split_proof(proof, inner, border)?;
    let hash = chain_inner(*leaf, inner_part, index);
    Ok(chain_border_right(hash, border_part))
}

/// Number of hashes in the inclusion proof of `index` in a tree of `size` leaves (requires `index < size`).
pub fn inclusion_proof_len(index: u64, size: u64) -> Result<usize, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose_inclusion(index, size);
    Ok(inner + border)
}

/// Checks that `proof` proves the tree of `size1` leaves with root `root1` is a prefix of the tree of `size2`
/// leaves with root `root2` (RFC 9162 section 2.1.4.2).
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), MerkleError> {
    if size1 > size2 {
        return Err(MerkleError::SizeDecreased { size1, size2 });
    }
    if size1 == 0 {
        return Err(MerkleError::EmptyOldTree);
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(MerkleError::WrongProofLength {
                expected: 0,
                found: proof.len(),
            });
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(MerkleError::RootMismatch {
                expected: to_hex(root2),
                computed: to_hex(root1),
            })
        };
    }
    // Now 0 < size1 < size2. The proof is the tail of the inclusion proof of leaf size1 - 1 in the new tree,
    // starting at the level of the largest complete subtree that ends at size1 (of width 2^shift). That
    // subtree's hash comes first in the proof, unless it is the whole old tree, whose root is then the seed.
    let (inner, border) = decompose_inclusion(size1 - 1, size2);
    let shift = size1.trailing_zeros();
    let inner = inner.saturating_sub(shift as usize);
    let (seed, rest) = if size1.is_power_of_two() {
        (*root1, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => {
                return Err(MerkleError::WrongProofLength {
                    expected: 1 + inner + border,
                    found: 0,
                });
            }
        }
    };
    let seeded = proof.len() - rest.len();
    let (inner_part, border_part) =
        split_proof(rest, inner, border).map_err(|_| MerkleError::WrongProofLength {
            expected: seeded + inner + border,
            found: proof.len(),
        })?;
    let mask = (size1 - 1) >> shift;

    let old = chain_border_right(chain_inner_right(seed, inner_part, mask), border_part);
    if old != *root1 {
        return Err(MerkleError::OldRootMismatch {
            expected: to_hex(root1),
            computed: to_hex(&old),
        });
    }
    let new = chain_border_right(chain_inner(seed, inner_part, mask), border_part);
    if new != *root2 {
        return Err(MerkleError::RootMismatch {
            expected: to_hex(root2),
            computed: to_hex(&new),
        });
    }
    Ok(())
}

/// Largest power of two strictly smaller than `n`; requires `n >= 2`.
fn split_point(n: u64) -> u64 {
    1u64 << (63 - n.saturating_sub(1).max(1).leading_zeros())
}

/// Splits the inclusion proof of `index` in a tree of `size > index` leaves into the part below the point where
/// the paths to `index` and to the last leaf diverge (`inner`) and the part along the right border above it.
fn decompose_inclusion(index: u64, size: u64) -> (usize, usize) {
    let inner = 64 - (index ^ size.wrapping_sub(1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner as usize, border as usize)
}

/// Splits `proof` into its `inner` and `border` parts after checking its length.
fn split_proof(
    proof: &[Hash],
    inner: usize,
    border: usize,
) -> Result<(&[Hash], &[Hash]), MerkleError> {
    let expected = inner + border;
    if proof.len() != expected {
        return Err(MerkleError::WrongProofLength {
            expected,
            found: proof.len(),
        });
    }
    proof
        .split_at_checked(inner)
        .ok_or(MerkleError::WrongProofLength {
            expected,
            found: proof.len(),
        })
}

/// Hashes up from `seed`, the node at position `index` of its level, with siblings on either side.
fn chain_inner(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (level, sibling) in proof.iter().enumerate() {
        if index.checked_shr(level as u32).unwrap_or(0) & 1 == 0 {
            seed = node_hash(&seed, sibling);
        } else {
            seed = node_hash(sibling, &seed);
        }
    }
    seed
}

/// Like [`chain_inner`] but only taking the siblings on the left: the hash of the earlier, smaller version of the
/// subtree (used to recompute the old root of a consistency proof).
fn chain_inner_right(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (level, sibling) in proof.iter().enumerate() {
        if index.checked_shr(level as u32).unwrap_or(0) & 1 == 1 {
            seed = node_hash(sibling, &seed);
        }
    }
    seed
}

/// Hashes up along the right border of the tree, where every sibling is on the left.
fn chain_border_right(mut seed: Hash, proof: &[Hash]) -> Hash {
    for sibling in proof {
        seed = node_hash(sibling, &seed);
    }
    seed
}

/// The node ranges of the RFC 6962 audit path `PATH(index, D[0:size])`, leaf to root. Requires `index < size`.
fn inclusion_ranges(index: u64, size: u64) -> Vec<NodeRange> {
    let (mut lo, mut hi) = (0u64, size);
    let mut top_down = Vec::with_capacity(64);
    while hi - lo > 1 {
        let split = lo + split_point(hi - lo);
        if index < split {
            top_down.push((split, hi));
            hi = split;
        } else {
            top_down.push((lo, split));
            lo = split;
        }
    }
    top_down.reverse();
    top_down
}

/// The node ranges of the RFC 6962 consistency proof `PROOF(size1, D[0:size2])`, in proof order. Requires
/// `0 < size1 <= size2`.
fn consistency_ranges(size1: u64, size2: u64) -> Vec<NodeRange> {
    // SUBPROOF(m, D[lo:hi], complete), with m counted from lo; `complete` is the RFC's boolean b.
    let (mut lo, mut hi, mut m, mut complete) = (0u64, size2, size1, true);
    let mut top_down = Vec::with_capacity(64);
    loop {
        let width = hi - lo;
        // `width < 2` cannot happen while 0 < m < width; it only keeps the loop finite by construction.
        if m >= width || width < 2 {
            if !complete {
                top_down.push((lo, hi));
            }
            break;
        }
        let k = split_point(width);
        if m <= k {
            top_down.push((lo + k, hi));
            hi = lo + k;
        } else {
            top_down.push((lo, lo + k));
            lo += k;
            m -= k;
            complete = false;
        }
    }
    top_down.reverse();
    top_down
}

/// The nodes a set of proofs needs, sorted in the order the streaming pass forms them, with their hashes once
/// formed.
///
/// A [`RootBuilder`] forms nodes in increasing order of `(end, width)`: a push forms the leaf and then ever
/// wider complete subtrees that all end after the new leaf, and the final fold forms ever wider right-edge nodes
/// that all end at the tree size and are wider than anything the last push formed. So a cursor into the sorted
/// list recognises each wanted node with one comparison, whatever the number of proofs.
struct WantedNodes {
    ranges: Vec<NodeRange>,
    hashes: Vec<Option<Hash>>,
    cursor: usize,
}

/// The position of a node in the order a [`RootBuilder`] forms it.
fn formation_key(&(start, end): &NodeRange) -> (u64, u64) {
    (end, end.wrapping_sub(start))
}

impl WantedNodes {
    fn new(mut ranges: Vec<NodeRange>) -> Self {
        ranges.sort_unstable_by_key(formation_key);
        ranges.dedup();
        let hashes = vec![None; ranges.len()];
        Self {
            ranges,
            hashes,
            cursor: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Called for every node the streaming pass forms, in formation order.
    #[inline]
    fn record(&mut self, start: u64, end: u64, hash: &Hash) {
        if self.ranges.get(self.cursor) == Some(&(start, end)) {
            if let Some(slot) = self.hashes.get_mut(self.cursor) {
                *slot = Some(*hash);
            }
            self.cursor += 1;
        }
    }

    /// The hashes of `ranges`, in the given order.
    fn assemble(&self, ranges: &[NodeRange]) -> Result<Vec<Hash>, MerkleError> {
        ranges
            .iter()
            .map(|&(start, end)| {
                self.ranges
                    .binary_search_by_key(&formation_key(&(start, end)), formation_key)
                    .ok()
                    .and_then(|at| self.hashes.get(at).copied().flatten())
                    .ok_or(MerkleError::MissingNode { start, end })
            })
            .collect()
    }
}

/// Streams exactly `size` leaves through a [`RootBuilder`], recording the hash of every wanted node, and
/// returns the root.
fn stream_nodes<I: IntoIterator<Item = Hash>>(
    size: u64,
    leaves: I,
    wanted: &mut WantedNodes,
) -> Result<Hash, MerkleError> {
    let mut builder = RootBuilder::new();
    let observe = !wanted.is_empty();
    let mut record = |start: u64, end: u64, hash: &Hash| wanted.record(start, end, hash);
    for leaf in leaves {
        if builder.size() == size {
            return Err(MerkleError::TooManyLeaves { expected: size });
        }
        if observe {
            builder.push_observed(leaf, &mut record);
        } else {
            builder.push(leaf);
        }
    }
    if builder.size() != size {
        return Err(MerkleError::LeafCountMismatch {
            expected: size,
            found: builder.size(),
        });
    }
    Ok(builder.root_observed(&mut record))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn blocks_give_the_root_of_their_leaves() {
        for block in [1u64, 4, 1024] {
            for size in [
                0u64, 1, 2, 3, 4, 5, 7, 8, 9, 1023, 1024, 1025, 2047, 2048, 2049, 3000, 5121,
            ] {
                let all = leaves(size);
                let mut b = BlockHashes::new(block);
                for l in &all {
                    b.push(*l);
                }
                let blocks = b.finish();
                assert_eq!(
                    blocks.len() as u64,
                    size.div_ceil(block) * 32,
                    "{block} {size}"
                );
                assert_eq!(
                    root_from_blocks(&blocks, size, block),
                    Some(root_from_leaves(&all)),
                    "block {block}, size {size}"
                );
                // Each block is the tree of its own leaves.
                for (k, chunk) in all.chunks(block as usize).enumerate() {
                    assert_eq!(&blocks[k * 32..k * 32 + 32], &root_from_leaves(chunk)[..]);
                }
                // A block too many or too few, or a changed one, gives no root or another.
                if size > 0 {
                    assert_eq!(root_from_blocks(&blocks[32..], size, block), None);
                    let mut more = blocks.clone();
                    more.extend_from_slice(&[0; 32]);
                    assert_eq!(root_from_blocks(&more, size, block), None);
                    let mut changed = blocks.clone();
                    changed[0] ^= 1;
                    assert_ne!(
                        root_from_blocks(&changed, size, block),
                        Some(root_from_leaves(&all))
                    );
                }
            }
        }
        assert_eq!(root_from_blocks(&[0; 31], 1, 4), None);
        assert_eq!(root_from_blocks(&[0; 32], 1, 3), None);
    }

    #[test]
    fn empty_root_is_sha256_of_the_empty_string() {
        assert_eq!(
            to_hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(RootBuilder::new().root(), empty_root());
        assert_eq!(root_from_leaves(&[]), empty_root());
    }

    #[test]
    fn leaf_and_node_hashes_carry_their_domain_prefixes() {
        let expected_leaf: Hash = Sha256::digest([0x00, b'a', b'b']).into();
        assert_eq!(leaf_hash(b"ab"), expected_leaf);
        let unprefixed: Hash = Sha256::digest(b"ab").into();
        assert_ne!(leaf_hash(b"ab"), unprefixed);

        let (l, r) = (leaf_hash(b"l"), leaf_hash(b"r"));
        let mut preimage = vec![0x01];
        preimage.extend_from_slice(&l);
        preimage.extend_from_slice(&r);
        let expected_node: Hash = Sha256::digest(&preimage).into();
        assert_eq!(node_hash(&l, &r), expected_node);
        assert_ne!(node_hash(&l, &r), node_hash(&r, &l));
    }

    #[test]
    fn empty_leaf_hash_matches_rfc6962_size_one_root() {
        // The reference tree's first leaf is the empty string; its size-1 root is its leaf hash.
        assert_eq!(
            to_hex(&leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn hex_round_trips_and_rejects_malformed_text() {
        let h = leaf_hash(b"x");
        assert_eq!(parse_hex(&to_hex(&h)), Ok(h));
        assert_eq!(parse_hex(&to_hex(&h).to_uppercase()), Ok(h));
        assert!(
            to_hex(&h)
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        );
        assert!(matches!(parse_hex(""), Err(MerkleError::InvalidHex { .. })));
        assert!(matches!(
            parse_hex(&"0".repeat(63)),
            Err(MerkleError::InvalidHex { .. })
        ));
        assert!(matches!(
            parse_hex(&"g".repeat(64)),
            Err(MerkleError::InvalidHex { .. })
        ));
        // 64 bytes but multi-byte characters: must not panic on char boundaries.
        assert!(matches!(
            parse_hex(&"é".repeat(32)),
            Err(MerkleError::InvalidHex { .. })
        ));
    }

    #[test]
    fn hash_from_slice_accepts_only_32_bytes() {
        assert_eq!(hash_from_slice(&[7u8; 32]), Ok([7u8; 32]));
        assert_eq!(
            hash_from_slice(&[]),
            Err(MerkleError::InvalidHashLength { found: 0 })
        );
        assert_eq!(
            hash_from_slice(&[0; 33]),
            Err(MerkleError::InvalidHashLength { found: 33 })
        );
    }

    #[test]
    fn split_point_is_the_largest_power_of_two_below_n() {
        for n in 2u64..=1025 {
            let k = split_point(n);
            assert!(
                k.is_power_of_two() && k < n && 2 * k >= n,
                "n = {n}, k = {k}"
            );
        }
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn proof_lengths_agree_with_the_path_ranges() {
        for size in 1u64..=130 {
            for index in 0..size {
                assert_eq!(
                    inclusion_proof_len(index, size),
                    Ok(inclusion_ranges(index, size).len()),
                    "index {index}, size {size}"
                );
            }
        }
    }

    #[test]
    fn root_builder_reports_every_complete_subtree_and_right_edge_node() {
        let leaves = leaves(13);
        let mut builder = RootBuilder::new();
        let mut seen = Vec::new();
        for leaf in &leaves {
            builder.push_observed(*leaf, |s, e, h| seen.push((s, e, *h)));
        }
        builder.root_observed(|s, e, h| seen.push((s, e, *h)));
        for (start, end, hash) in seen {
            let (s, e) = (start as usize, end as usize);
            assert_eq!(hash, naive_root(&leaves[s..e]), "node [{start}, {end})");
        }
        // One call per leaf, per merge (13 - popcount(13) = 10) and per right-edge fold (popcount(13) - 1 = 2).
        let mut count = 0;
        let mut b = RootBuilder::new();
        for leaf in &leaves {
            b.push_observed(*leaf, |_, _, _| count += 1);
        }
        b.root_observed(|_, _, _| count += 1);
        assert_eq!(count, 13 + (13 - 13u32.count_ones() as usize) + 2);
    }

    fn naive_root(leaves: &[Hash]) -> Hash {
        match leaves {
            [] => empty_root(),
            [one] => *one,
            _ => {
                let k = split_point(leaves.len() as u64) as usize;
                node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn huge_sizes_are_rejected_by_length_not_by_a_panic() {
        let h = leaf_hash(b"x");
        for (index, size) in [
            (0, u64::MAX),
            (u64::MAX - 1, u64::MAX),
            (1 << 63, u64::MAX),
            ((1 << 63) - 1, 1 << 63),
        ] {
            let len = inclusion_proof_len(index, size).unwrap_or(usize::MAX);
            assert!(len <= 64, "index {index}, size {size}: {len}");
            assert_eq!(
                verify_inclusion(&h, index, size, &[], &h),
                Err(MerkleError::WrongProofLength {
                    expected: len,
                    found: 0
                })
            );
        }
        for (size1, size2) in [(1, u64::MAX), (u64::MAX - 1, u64::MAX), (1 << 63, u64::MAX)] {
            assert!(matches!(
                verify_consistency(size1, size2, &[], &h, &h),
                Err(MerkleError::WrongProofLength { found: 0, .. })
            ));
        }
        assert!(matches!(
            inclusion_proofs(u64::MAX, leaves(3), &[u64::MAX - 1]),
            Err(MerkleError::LeafCountMismatch {
                expected: u64::MAX,
                found: 3
            })
        ));
    }
}
