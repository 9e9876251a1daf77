//! Limits at the edge: how often one agency, citizen, client or address may
//! call an endpoint that costs something or guesses at something (a token,
//! a sign-in code, a register lookup, a search).
//!
//! - [`Quota`]: so many requests at once, refilled evenly over a period.
//! - [`Limiter`]: admits or refuses one request against a quota, for a
//!   [`Subject`] (whom the limit counts). Every node shares the count through
//!   the database ([`Store`]), so three nodes allow what one would; when the
//!   database does not answer in time, the node's own in-memory limiter
//!   decides instead, so a slow database neither stops the edge nor opens it.
//! - [`edge`]: the middleware that says which endpoint counts against which
//!   limit, and answers 429 with `Retry-After`.
//!
//! The algorithm is GCRA (the generic cell rate algorithm, as in ATM networks
//! and the `governor` crate): one number per bucket, the time at which the
//! bucket would be empty again, updated in one statement. Buckets are named by
//! a SHA-256 of the limit and the subject, so neither national ids nor
//! addresses are stored. Why the database and not Redis: it is there on every
//! installation (SQLite for one node, PostgreSQL for several), it is already
//! what every node must reach, and a limit costs one upsert of one short row;
//! docs/limits.md has the reasoning and the defaults.

pub mod edge;
mod store;

pub use store::Store;

use crate::clock::Clock;
use chrono::{DateTime, Utc};
use governor::{clock::Clock as _, DefaultKeyedRateLimiter};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::{
    collections::{BTreeMap, HashMap},
    net::IpAddr,
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::Duration,
};

/// `burst` requests at once, refilled at `burst` per `period_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub struct Quota {
    pub burst: u32,
    pub period_seconds: u64,
}

impl Quota {
    /// GCRA's emission interval: the time one request's allowance takes to come back.
    fn interval(&self) -> Duration {
        Duration::from_secs(self.period_seconds) / self.burst.max(1)
    }

    /// How far ahead of now the bucket may run: room for `burst - 1` more.
    fn tolerance(&self) -> Duration {
        self.interval() * self.burst.max(1).saturating_sub(1)
    }
}

/// What is limited. Each has its own [`Quota`] in the `[limits]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `POST /token`, per client id at an address.
    Token,
    /// The operator console's sign-in, per address.
    OperatorSignIn,
    /// Login start and callback, per address.
    Login,
    /// The built-in TestID provider's forms and token endpoint, per address.
    TestId,
    /// `POST /rest/v1/personer`, per agency.
    ContactLookup,
    /// `POST /messages/out`, per agency.
    Send,
    /// A citizen's uploads.
    Upload,
    /// A citizen's searches.
    Search,
    /// A citizen's exports of the whole mailbox.
    Export,
    /// The public check of paper letters' codes, per address.
    PaperCheck,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Token => "token",
            Kind::OperatorSignIn => "operator_sign_in",
            Kind::Login => "login",
            Kind::TestId => "testid",
            Kind::ContactLookup => "contact_lookup",
            Kind::Send => "send",
            Kind::Upload => "upload",
            Kind::Search => "search",
            Kind::Export => "export",
            Kind::PaperCheck => "paper_check",
        }
    }
}

/// Whom a limit counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject<'a> {
    /// The peer's address (`None` when the server cannot tell: they share one).
    Address(Option<IpAddr>),
    /// A client id, as a request names it before it is verified, at an address.
    ClientAt(&'a str, Option<IpAddr>),
    /// An agency, by organisation number.
    Agency(&'a str),
    /// A citizen, by national id.
    Citizen(&'a str),
}

impl Subject<'_> {
    /// The bucket's name: a digest, so the store never holds the id itself.
    fn bucket(&self, kind: Kind) -> String {
        let address = |address: &Option<IpAddr>| {
            address.map_or_else(|| "unknown".to_owned(), |address| address.to_string())
        };
        let subject = match self {
            Subject::Address(at) => format!("address {}", address(at)),
            Subject::ClientAt(client, at) => format!("client {client} at {}", address(at)),
            Subject::Agency(org_nr) => format!("agency {org_nr}"),
            Subject::Citizen(fnr) => format!("citizen {fnr}"),
        };
        let digest = Sha256::new()
            .chain_update(kind.name())
            .chain_update([0])
            .chain_update(subject)
            .finalize();
        hex::encode(&digest[..16])
    }

    fn agency(&self) -> Option<&str> {
        match self {
            Subject::Agency(org_nr) => Some(org_nr),
            _ => None,
        }
    }
}

/// The `[limits]` settings: a quota for each [`Kind`], and agencies' own.
#[derive(Debug, Clone, Deserialize)]
pub struct LimitSettings {
    /// How long a request waits for the shared count before the node's own
    /// limiter decides.
    pub shared_timeout_milliseconds: u64,
    /// Forget buckets that are full again this often.
    pub sweep_interval_seconds: u64,
    pub token: Quota,
    pub operator_sign_in: Quota,
    pub login: Quota,
    pub testid: Quota,
    pub contact_lookup: Quota,
    pub send: Quota,
    pub upload: Quota,
    pub search: Quota,
    pub export: Quota,
    pub paper_check: Quota,
    /// Quotas for one agency (by organisation number) that differ from the above.
    #[serde(default)]
    pub agencies: BTreeMap<String, AgencyQuotas>,
}

/// An agency's own quotas; what is not given is the default.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AgencyQuotas {
    pub contact_lookup: Option<Quota>,
    pub send: Option<Quota>,
}

impl LimitSettings {
    /// The quota `kind` has for `subject`.
    pub fn quota(&self, kind: Kind, subject: &Subject) -> Quota {
        let own = subject
            .agency()
            .and_then(|org_nr| self.agencies.get(org_nr));
        match kind {
            Kind::Token => self.token,
            Kind::OperatorSignIn => self.operator_sign_in,
            Kind::Login => self.login,
            Kind::TestId => self.testid,
            Kind::ContactLookup => own
                .and_then(|own| own.contact_lookup)
                .unwrap_or(self.contact_lookup),
            Kind::Send => own.and_then(|own| own.send).unwrap_or(self.send),
            Kind::Upload => self.upload,
            Kind::Search => self.search,
            Kind::Export => self.export,
            Kind::PaperCheck => self.paper_check,
        }
    }

    /// Every quota, to check them or (in tests) to change them all.
    pub fn quotas_mut(&mut self) -> impl Iterator<Item = &mut Quota> {
        [
            &mut self.token,
            &mut self.operator_sign_in,
            &mut self.login,
            &mut self.testid,
            &mut self.contact_lookup,
            &mut self.send,
            &mut self.upload,
            &mut self.search,
            &mut self.export,
            &mut self.paper_check,
        ]
        .into_iter()
        .chain(
            self.agencies
                .values_mut()
                .flat_map(|own| [own.contact_lookup.as_mut(), own.send.as_mut()])
                .flatten(),
        )
    }

    /// Quotas that admit nothing, or nothing ever again, are refused.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.clone()
                .quotas_mut()
                .all(|quota| quota.burst > 0 && quota.period_seconds > 0),
            "every quota in [limits] needs burst and period_seconds above 0"
        );
        Ok(())
    }
}

/// A refused request: come back after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub kind: Kind,
    pub retry_after: Duration,
}

/// What a bucket said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Admitted,
    /// Refused; the bucket has room again after this long.
    Refused {
        retry_after: Duration,
    },
}

pub struct Limiter {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: LimitSettings,
    /// The node's own limiters, one per quota, for when the shared count is
    /// slow or down.
    backstop: Mutex<HashMap<Quota, Arc<DefaultKeyedRateLimiter<String>>>>,
}

impl Limiter {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: LimitSettings) -> Self {
        Self {
            store,
            clock,
            settings,
            backstop: Mutex::new(HashMap::new()),
        }
    }

    /// Admits the request, or says when the subject may come back.
    pub async fn admit(&self, kind: Kind, subject: &Subject<'_>) -> Result<(), Limited> {
        let quota = self.settings.quota(kind, subject);
        let bucket = subject.bucket(kind);
        let shared = tokio::time::timeout(
            Duration::from_millis(self.settings.shared_timeout_milliseconds),
            self.store.take(
                &bucket,
                self.clock.now(),
                quota.interval(),
                quota.tolerance(),
            ),
        )
        .await;
        let decision = match shared {
            Ok(Ok(decision)) => decision,
            Ok(Err(error)) => {
                tracing::warn!(%error, limit = kind.name(), "the shared rate limit failed; this node's own decides");
                self.backstop(quota, bucket)
            }
            Err(_) => {
                tracing::warn!(
                    limit = kind.name(),
                    "the shared rate limit is slow; this node's own decides"
                );
                self.backstop(quota, bucket)
            }
        };
        match decision {
            Decision::Admitted => Ok(()),
            Decision::Refused { retry_after } => {
                // Debug, not info: a flood of refusals must not flood the log too.
                tracing::debug!(limit = kind.name(), "rate limited");
                Err(Limited { kind, retry_after })
            }
        }
    }

    fn backstop(&self, quota: Quota, bucket: String) -> Decision {
        let limiter = {
            let mut limiters = self
                .backstop
                .lock()
                .expect("the backstop lock is never poisoned");
            limiters
                .entry(quota)
                .or_insert_with(|| {
                    let burst = NonZeroU32::new(quota.burst).unwrap_or(NonZeroU32::MIN);
                    let per = governor::Quota::with_period(quota.interval())
                        .unwrap_or_else(|| governor::Quota::per_second(NonZeroU32::MIN))
                        .allow_burst(burst);
                    Arc::new(DefaultKeyedRateLimiter::keyed(per))
                })
                .clone()
        };
        match limiter.check_key(&bucket) {
            Ok(()) => Decision::Admitted,
            Err(not_until) => Decision::Refused {
                retry_after: not_until
                    .wait_time_from(governor::clock::DefaultClock::default().now()),
            },
        }
    }

    /// Forgets buckets that are full again (shared and the node's own), so
    /// the count holds only subjects seen lately.
    pub async fn sweep(&self) -> Result<u64, crate::store::StorageError> {
        let limiters: Vec<_> = self
            .backstop
            .lock()
            .expect("the backstop lock is never poisoned")
            .values()
            .cloned()
            .collect();
        for limiter in limiters {
            limiter.retain_recent();
        }
        self.store.forget_full(self.clock.now()).await
    }

    pub fn sweep_interval(&self) -> Duration {
        Duration::from_secs(self.settings.sweep_interval_seconds.max(1))
    }
}

/// GCRA on one bucket, as the stores compute it in SQL: `arrival` is when the
/// bucket would be full again. Admitted if it is no further ahead of `now`
/// than the tolerance; then it moves one interval on. Kept here, beside the
/// SQL's description, for the unit tests to pin the rule down.
pub fn gcra(
    arrival: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    interval: Duration,
    tolerance: Duration,
) -> (Decision, Option<DateTime<Utc>>) {
    let interval = chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::MAX);
    let tolerance = chrono::Duration::from_std(tolerance).unwrap_or(chrono::Duration::MAX);
    let start = arrival.map_or(now, |arrival| arrival.max(now));
    if start - now <= tolerance {
        (Decision::Admitted, Some(start + interval))
    } else {
        let wait = (start - now - tolerance).to_std().unwrap_or_default();
        (Decision::Refused { retry_after: wait }, arrival)
    }
}

/// Sweeps the buckets now and then, until the server stops.
pub struct Sweeper {
    pub limiter: Arc<Limiter>,
}

impl Sweeper {
    pub async fn run(self) {
        let mut interval = tokio::time::interval(self.limiter.sweep_interval());
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(error) = self.limiter.sweep().await {
                tracing::warn!(%error, "forgetting full rate-limit buckets failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
    }

    /// Ten a minute for everything.
    fn settings() -> LimitSettings {
        let quota = Quota {
            burst: 10,
            period_seconds: 60,
        };
        LimitSettings {
            shared_timeout_milliseconds: 100,
            sweep_interval_seconds: 60,
            token: quota,
            operator_sign_in: quota,
            login: quota,
            testid: quota,
            contact_lookup: quota,
            send: quota,
            upload: quota,
            search: quota,
            export: quota,
            paper_check: quota,
            agencies: BTreeMap::new(),
        }
    }

    #[test]
    fn a_burst_is_admitted_whole_then_refused_until_one_interval_comes_back() {
        // Three at once, one every 20 s after.
        let quota = Quota {
            burst: 3,
            period_seconds: 60,
        };
        let mut arrival = None;
        for _ in 0..3 {
            let (decision, next) = gcra(arrival, at(0), quota.interval(), quota.tolerance());
            assert_eq!(decision, Decision::Admitted);
            arrival = next;
        }
        let (decision, next) = gcra(arrival, at(0), quota.interval(), quota.tolerance());
        assert_eq!(
            decision,
            Decision::Refused {
                retry_after: Duration::from_secs(20)
            }
        );
        assert_eq!(next, arrival, "a refusal takes nothing");
        let (decision, _) = gcra(arrival, at(19), quota.interval(), quota.tolerance());
        assert!(matches!(decision, Decision::Refused { .. }));
        let (decision, _) = gcra(arrival, at(20), quota.interval(), quota.tolerance());
        assert_eq!(decision, Decision::Admitted);
    }

    #[test]
    fn an_idle_bucket_is_full_again() {
        let quota = Quota {
            burst: 2,
            period_seconds: 10,
        };
        let (_, arrival) = gcra(None, at(0), quota.interval(), quota.tolerance());
        let (_, arrival) = gcra(arrival, at(0), quota.interval(), quota.tolerance());
        let (decision, _) = gcra(arrival, at(0), quota.interval(), quota.tolerance());
        assert!(matches!(decision, Decision::Refused { .. }));
        let (first, arrival) = gcra(arrival, at(10), quota.interval(), quota.tolerance());
        let (second, _) = gcra(arrival, at(10), quota.interval(), quota.tolerance());
        assert_eq!((first, second), (Decision::Admitted, Decision::Admitted));
    }

    #[test]
    fn buckets_name_neither_the_id_nor_the_address_and_differ_by_limit() {
        let fnr = "01010012356";
        let search = Subject::Citizen(fnr).bucket(Kind::Search);
        assert!(!search.contains(fnr));
        assert_ne!(search, Subject::Citizen(fnr).bucket(Kind::Export));
        assert_ne!(
            Subject::ClientAt("a", None).bucket(Kind::Token),
            Subject::ClientAt("b", None).bucket(Kind::Token)
        );
    }

    #[test]
    fn an_agency_may_have_its_own_quota() {
        let mut settings = settings();
        let own = Quota {
            burst: 7,
            period_seconds: 1,
        };
        settings.agencies.insert(
            "974760673".into(),
            AgencyQuotas {
                send: Some(own),
                contact_lookup: None,
            },
        );
        assert_eq!(
            settings.quota(Kind::Send, &Subject::Agency("974760673")),
            own
        );
        assert_eq!(
            settings.quota(Kind::ContactLookup, &Subject::Agency("974760673")),
            settings.contact_lookup
        );
        assert_eq!(
            settings.quota(Kind::Send, &Subject::Agency("889640782")),
            settings.send
        );
    }

    /// A shared count that never answers in time.
    struct Stuck;

    #[async_trait::async_trait]
    impl Store for Stuck {
        async fn take(
            &self,
            _: &str,
            _: DateTime<Utc>,
            _: Duration,
            _: Duration,
        ) -> Result<Decision, crate::store::StorageError> {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(Decision::Admitted)
        }

        async fn forget_full(&self, _: DateTime<Utc>) -> Result<u64, crate::store::StorageError> {
            Ok(0)
        }
    }

    #[tokio::test]
    async fn when_the_shared_count_is_slow_the_nodes_own_limiter_holds_the_line() {
        let mut settings = settings();
        settings.shared_timeout_milliseconds = 10;
        settings.search = Quota {
            burst: 3,
            period_seconds: 3600,
        };
        let limiter = Limiter::new(
            Arc::new(Stuck),
            Arc::new(crate::clock::SystemClock),
            settings,
        );
        let kari = Subject::Citizen("01010012356");
        for _ in 0..3 {
            assert!(limiter.admit(Kind::Search, &kari).await.is_ok());
        }
        let refused = limiter.admit(Kind::Search, &kari).await.unwrap_err();
        assert_eq!(refused.kind, Kind::Search);
        assert!(refused.retry_after > Duration::from_secs(1000));
        assert!(limiter
            .admit(Kind::Search, &Subject::Citizen("02020012345"))
            .await
            .is_ok());
    }

    #[test]
    fn a_quota_of_nothing_is_refused() {
        let mut settings = settings();
        assert!(settings.check().is_ok());
        settings.search.burst = 0;
        assert!(settings.check().is_err());
    }
}
