//! Document bytes, stored content-addressed: a blob's name is the SHA-256 of
//! its bytes. The same document sent twice is stored once, a blob can never be
//! overwritten with other content, and corruption is caught on read.
//!
//! [`ObjectStoreBlobs`] puts them in any `object_store` backend: a local
//! directory, written with fsync so a put is durable when it returns, or an
//! S3-compatible bucket that several nodes share. Either way a blob is
//! written once (`PutMode::Create`), and before the row that names it.
//! [`TieredBlobs`] adds the database in front of it for small blobs, which
//! ride along in the commit of the message that refers to them (see
//! [`BlobStore::stage`]): a file and two fsyncs per blob would otherwise bound
//! how many letters a second the broker can accept. The database's side of
//! that is this module's [`Store`].

mod store;

pub use store::Store;

use app::domain::Sha256Digest;
use async_trait::async_trait;
use bytes::Bytes;
use object_store::{
    aws::AmazonS3Builder, local::LocalFileSystem, path::Path as ObjectPath, ObjectStore,
    ObjectStoreExt, PutMode, PutOptions,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::{path::Path, sync::Arc};

/// An S3-compatible bucket (AWS, SeaweedFS, Ceph, ...): the `[blobs.s3]` settings.
#[derive(Debug, Clone, Deserialize)]
pub struct S3Bucket {
    /// The service's URL, such as `http://127.0.0.1:8333`; empty for AWS itself.
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    /// Whether a plain `http://` endpoint is allowed (a store on this machine).
    pub allow_http: bool,
    /// Keys go under this prefix (`PREFIX/sha256/…`), so installations can
    /// share a bucket; empty for none.
    #[serde(default)]
    pub prefix: String,
}

/// How long one blob operation may take with its retries, on S3: a letter's
/// sender waits for it, and a store that is down should give a quick 503
/// rather than hold the request for object_store's default three minutes.
const S3_RETRY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob not found")]
    NotFound,
    #[error("blob {0:?} does not match its digest")]
    Corrupt(Sha256Digest),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores the bytes and returns their digest. Durable when it returns;
    /// storing bytes already present is a no-op.
    async fn put(&self, bytes: Bytes) -> Result<Sha256Digest, BlobError> {
        let (digest, bytes) = sha256_of(bytes).await?;
        self.put_hashed(digest, bytes).await?;
        Ok(digest)
    }

    /// [`put`](Self::put) for bytes whose digest the caller has just
    /// computed from them: a large package is hashed once, not once per use.
    async fn put_hashed(&self, digest: Sha256Digest, bytes: Bytes) -> Result<(), BlobError>;

    /// The bytes with this digest, checked against it.
    async fn get(&self, digest: &Sha256Digest) -> Result<Bytes, BlobError>;

    async fn contains(&self, digest: &Sha256Digest) -> Result<bool, BlobError>;

    /// Makes the bytes, whose digest the caller has computed from them, ready
    /// to be referred to by a database commit. Either
    /// they are durable already (as after [`put`](Self::put)), or the staged
    /// blob carries them and the commit must write them (see
    /// [`StagedBlob::inline`]); either way the digest is theirs.
    async fn stage(&self, digest: Sha256Digest, bytes: Bytes) -> Result<StagedBlob, BlobError> {
        self.put_hashed(digest, bytes).await?;
        Ok(StagedBlob {
            digest,
            inline: None,
        })
    }
}

/// Bytes about to be referred to by a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedBlob {
    pub digest: Sha256Digest,
    /// Bytes the commit itself must store (in `inline_blob`), because they
    /// were not written anywhere else; `None` when they are durable already.
    pub inline: Option<Bytes>,
}

/// The bytes' name in the store. Blocking: see [`sha256_of`].
pub fn digest_of(bytes: &[u8]) -> Sha256Digest {
    Sha256Digest::from_bytes(Sha256::digest(bytes).into())
}

/// Hashes off the async threads: a 50 MB package takes long enough to matter.
pub async fn sha256_of(bytes: Bytes) -> Result<(Sha256Digest, Bytes), BlobError> {
    tokio::task::spawn_blocking(move || {
        let digest = digest_of(&bytes);
        (digest, bytes)
    })
    .await
    .map_err(|join_error| BlobError::Other(join_error.into()))
}

/// The bytes read back for `digest`, if they still hash to it.
async fn checked(digest: &Sha256Digest, bytes: Bytes) -> Result<Bytes, BlobError> {
    let (actual, bytes) = sha256_of(bytes).await?;
    if actual != *digest {
        return Err(BlobError::Corrupt(*digest));
    }
    Ok(bytes)
}

pub struct ObjectStoreBlobs {
    store: Arc<dyn ObjectStore>,
}

impl ObjectStoreBlobs {
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    /// Blobs in a local directory, created if missing.
    pub fn local(directory: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(directory)?;
        let store = LocalFileSystem::new_with_prefix(directory)?.with_fsync(true);
        Ok(Self::new(Arc::new(store)))
    }

    /// Blobs in an S3-compatible bucket, which must exist.
    pub fn s3(bucket: &S3Bucket) -> anyhow::Result<Self> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&bucket.bucket)
            .with_region(&bucket.region)
            .with_access_key_id(&bucket.access_key_id)
            .with_secret_access_key(bucket.secret_access_key.expose_secret())
            .with_allow_http(bucket.allow_http);
        if !bucket.endpoint.is_empty() {
            builder = builder.with_endpoint(&bucket.endpoint);
        }
        let store = builder
            .with_retry(object_store::RetryConfig {
                max_retries: 3,
                retry_timeout: S3_RETRY_TIMEOUT,
                ..object_store::RetryConfig::default()
            })
            .build()?;
        Ok(match bucket.prefix.trim_matches('/') {
            "" => Self::new(Arc::new(store)),
            prefix => Self::new(Arc::new(object_store::prefix::PrefixStore::new(
                store, prefix,
            ))),
        })
    }

    /// `sha256/ab/ab12…`: a fan-out directory keeps any one directory small.
    fn path_of(digest: &Sha256Digest) -> ObjectPath {
        let hex = digest.to_hex();
        ObjectPath::from(format!("sha256/{}/{hex}", &hex[..2]))
    }
}

fn other(error: object_store::Error) -> BlobError {
    match error {
        object_store::Error::NotFound { .. } => BlobError::NotFound,
        error => BlobError::Other(error.into()),
    }
}

#[async_trait]
impl BlobStore for ObjectStoreBlobs {
    async fn put_hashed(&self, digest: Sha256Digest, bytes: Bytes) -> Result<(), BlobError> {
        // Present already: the same bytes, by their name; no upload again.
        if self.contains(&digest).await? {
            return Ok(());
        }
        // Written once: a blob is never replaced, not even with itself.
        // Another writer of the same bytes may come first, which is as good.
        let create = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        match self
            .store
            .put_opts(&Self::path_of(&digest), bytes.into(), create)
            .await
        {
            Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
            Err(error) => Err(other(error)),
        }
    }

    async fn get(&self, digest: &Sha256Digest) -> Result<Bytes, BlobError> {
        let bytes = self
            .store
            .get(&Self::path_of(digest))
            .await
            .map_err(other)?
            .bytes()
            .await
            .map_err(other)?;
        checked(digest, bytes).await
    }

    async fn contains(&self, digest: &Sha256Digest) -> Result<bool, BlobError> {
        match self.store.head(&Self::path_of(digest)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(error) => Err(other(error)),
        }
    }
}

/// Small blobs in the database, large ones in files.
///
/// Reads look in the database first: what was staged inline is there once
/// its commit is, and nowhere else. A direct [`put`](BlobStore::put) always
/// goes to the files, because no commit carries it.
pub struct TieredBlobs {
    files: Arc<dyn BlobStore>,
    inline: Arc<dyn Store>,
    inline_max_bytes: usize,
}

impl TieredBlobs {
    pub fn new(files: Arc<dyn BlobStore>, inline: Arc<dyn Store>, inline_max_bytes: usize) -> Self {
        Self {
            files,
            inline,
            inline_max_bytes,
        }
    }

    async fn inline(&self, digest: &Sha256Digest) -> Result<Option<Bytes>, BlobError> {
        self.inline
            .inline_blob(digest)
            .await
            .map(|found| found.map(Bytes::from))
            .map_err(|error| BlobError::Other(error.into()))
    }
}

#[async_trait]
impl BlobStore for TieredBlobs {
    async fn put_hashed(&self, digest: Sha256Digest, bytes: Bytes) -> Result<(), BlobError> {
        self.files.put_hashed(digest, bytes).await
    }

    async fn get(&self, digest: &Sha256Digest) -> Result<Bytes, BlobError> {
        match self.inline(digest).await? {
            Some(bytes) => checked(digest, bytes).await,
            None => self.files.get(digest).await,
        }
    }

    async fn contains(&self, digest: &Sha256Digest) -> Result<bool, BlobError> {
        Ok(self.inline(digest).await?.is_some() || self.files.contains(digest).await?)
    }

    async fn stage(&self, digest: Sha256Digest, bytes: Bytes) -> Result<StagedBlob, BlobError> {
        if bytes.len() > self.inline_max_bytes {
            return self.files.stage(digest, bytes).await;
        }
        Ok(StagedBlob {
            digest,
            inline: Some(bytes),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_same_bytes_get_the_same_name_and_read_back_whole() {
        let directory = tempfile::tempdir().unwrap();
        let blobs = ObjectStoreBlobs::local(directory.path()).unwrap();
        let first = blobs
            .put(Bytes::from_static(b"%PDF-1.7 brev"))
            .await
            .unwrap();
        let second = blobs
            .put(Bytes::from_static(b"%PDF-1.7 brev"))
            .await
            .unwrap();
        assert_eq!(first, second);
        assert_eq!(
            blobs.get(&first).await.unwrap(),
            Bytes::from_static(b"%PDF-1.7 brev")
        );
    }

    #[tokio::test]
    async fn a_digest_is_the_sha256_of_the_bytes() {
        let directory = tempfile::tempdir().unwrap();
        let blobs = ObjectStoreBlobs::local(directory.path()).unwrap();
        // SHA-256("abc") from FIPS 180-2, appendix B.1.
        let digest = blobs.put(Bytes::from_static(b"abc")).await.unwrap();
        assert_eq!(
            digest.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let stored = directory.path().join("sha256/ba").join(digest.to_hex());
        assert_eq!(std::fs::read(stored).unwrap(), b"abc");
    }

    #[tokio::test]
    async fn unknown_digests_are_not_found() {
        let directory = tempfile::tempdir().unwrap();
        let blobs = ObjectStoreBlobs::local(directory.path()).unwrap();
        let unknown = Sha256Digest::from_bytes([7; 32]);
        assert!(!blobs.contains(&unknown).await.unwrap());
        assert!(matches!(
            blobs.get(&unknown).await,
            Err(BlobError::NotFound)
        ));
    }

    #[tokio::test]
    async fn a_blob_changed_on_disk_is_reported_corrupt() {
        let directory = tempfile::tempdir().unwrap();
        let blobs = ObjectStoreBlobs::local(directory.path()).unwrap();
        let digest = blobs.put(Bytes::from_static(b"original")).await.unwrap();
        let stored = directory
            .path()
            .join("sha256")
            .join(&digest.to_hex()[..2])
            .join(digest.to_hex());
        std::fs::write(stored, b"tampered").unwrap();
        assert!(matches!(
            blobs.get(&digest).await,
            Err(BlobError::Corrupt(_))
        ));
    }
}
