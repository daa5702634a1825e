//! The in-memory caches of the phone path (files, devices, the throttle, the identification
//! memos): moka, with foldhash instead of the standard library's SipHash. The keys are small
//! (a MAC, ids, an address, a User-Agent) and each cached request looks several up, so the
//! hash was a tenth of a request's instructions. The hasher is seeded per process: a client
//! cannot pick keys that collide without knowing the seed, and the caches are bounded.
//!
//! Built as `moka::sync::Cache::builder()…build_with_hasher(Hasher::default())`.

/// The hasher of every [`Cache`].
pub(crate) type Hasher = foldhash::fast::RandomState;

/// A moka cache hashed with [`Hasher`].
pub(crate) type Cache<K, V> = moka::sync::Cache<K, V, Hasher>;
