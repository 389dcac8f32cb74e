use chrono::{Duration, TimeZone};
use proptest::prelude::*;

use super::*;
use crate::domain::{Attempt, AttemptId, IncidentId, LlmUsage, Outcome, Plan, RouteKey, Tier};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

fn alert(pairs: &[(&str, &str)]) -> Alert {
    let labels = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Alert::firing(labels, t0())
}

fn restart(container: &str) -> Vec<Step> {
    vec![Step::shell("web1", format!("docker restart {container}"))]
}

fn pattern(successes: u32, failures: u32) -> Pattern {
    let symptom = Symptom::new("ContainerDown", Labels::new());
    Pattern {
        id: PatternId::new(),
        signature: symptom.signature,
        alert_name: symptom.alert_name,
        symptom: symptom.labels,
        steps: restart("n8n"),
        successes,
        failures,
        source: PatternSource::Llm,
        created_at: t0(),
        last_used: Some(t0()),
    }
}

fn tier_of(m: &PatternMatch) -> &'static str {
    match m {
        PatternMatch::Cached { .. } => "cached",
        PatternMatch::Hint { .. } => "hint",
        PatternMatch::None => "none",
    }
}

#[test]
fn defaults_match_the_documented_values() {
    let cfg = LearningConfig::default();
    assert_eq!(cfg.cache_confidence, 0.75);
    assert_eq!(cfg.cache_min_successes, 5);
    assert_eq!(cfg.hint_confidence, 0.5);
    assert_eq!(cfg.half_life_days, 30.0);
    assert_eq!((cfg.prior_successes, cfg.prior_failures), (1.0, 0.5));
    assert_eq!(cfg.confidence_z, 0.8);
    assert_eq!(cfg.price_per_million_input_tokens, 3.0);
    assert_eq!(cfg.price_per_million_output_tokens, 15.0);
    let parsed: LearningConfig = toml::from_str("cache_min_successes = 3").unwrap();
    assert_eq!(parsed.cache_min_successes, 3);
    assert_eq!(parsed.hint_confidence, 0.5);
    assert!(toml::from_str::<LearningConfig>("bogus = 1").is_err());
}

#[test]
fn symptom_signature_ignores_instance_ip_pod_hash_and_severity() {
    let a = symptom(
        &alert(&[
            ("alertname", "ContainerDown"),
            ("container", "n8n"),
            ("instance", "10.0.0.5:9100"),
            ("severity", "critical"),
        ]),
        Some("docker"),
    );
    let b = symptom(
        &alert(&[
            ("alertname", "ContainerDown"),
            ("container", " n8n "),
            ("instance", "192.168.1.20:8080"),
            ("severity", "warning"),
            ("value", "0"),
        ]),
        Some("docker"),
    );
    assert_eq!(a, b);
    assert_eq!(
        a.labels.get("host_role").map(String::as_str),
        Some("docker")
    );
    assert!(!a.labels.contains_key("instance"));

    let pod = |name: &str| {
        symptom(
            &alert(&[("alertname", "PodCrash"), ("container", name)]),
            None,
        )
    };
    assert_eq!(pod("web-5d8f7c9b4-x7k2p"), pod("web-7c9d6f5b8-q2w3e"));
    assert_eq!(pod("web-5d8f7c9b4-x7k2p").labels["container"], "web");
    // A plain hyphenated name is kept as is.
    assert_eq!(pod("frigate-db").labels["container"], "frigate-db");

    let other_container = symptom(
        &alert(&[("alertname", "ContainerDown"), ("container", "mqtt")]),
        Some("docker"),
    );
    assert_ne!(a.signature, other_container.signature);
    let other_role = symptom(
        &alert(&[("alertname", "ContainerDown"), ("container", "n8n")]),
        Some("proxmox"),
    );
    assert_ne!(a.signature, other_role.signature);
    // A job that is just an address identifies nothing.
    let job_ip = symptom(
        &alert(&[("alertname", "ServiceDown"), ("job", "10.1.1.1:9100")]),
        None,
    );
    assert!(job_ip.labels.is_empty());
}

#[test]
fn tiers_need_both_confidence_and_verified_successes() {
    let cfg = LearningConfig::default();
    let check = |p: Pattern, expected: &str| {
        let conf = confidence(&p, t0(), &cfg);
        let got = choose(std::slice::from_ref(&p), &[], t0(), &cfg);
        assert_eq!(
            tier_of(&got),
            expected,
            "{}/{} → {conf}",
            p.successes,
            p.failures
        );
    };
    check(pattern(0, 0), "none");
    check(pattern(3, 0), "hint");
    check(pattern(20, 0), "cached");
    check(pattern(20, 20), "none");
    check(pattern(20, 6), "hint");
    // Five clean verified successes are exactly enough under the defaults;
    // one failure among them is not.
    check(pattern(5, 0), "cached");
    check(pattern(5, 1), "hint");

    // High confidence but fewer than 5 verified successes: only a hint.
    let lax = LearningConfig {
        cache_confidence: 0.5,
        ..LearningConfig::default()
    };
    let four = pattern(4, 0);
    assert!(confidence(&four, t0(), &lax) >= 0.5);
    assert_eq!(tier_of(&choose(&[four], &[], t0(), &lax)), "hint");
    let five = pattern(5, 0);
    assert_eq!(tier_of(&choose(&[five], &[], t0(), &lax)), "cached");

    // Five successes but confidence below 0.75: only a hint.
    let five = pattern(5, 1);
    let conf = confidence(&five, t0(), &cfg);
    assert!((0.5..0.75).contains(&conf), "{conf}");
    assert_eq!(tier_of(&choose(&[five], &[], t0(), &cfg)), "hint");
}

#[test]
fn a_known_failed_plan_is_never_chosen() {
    let cfg = LearningConfig::default();
    let strong = pattern(50, 0);
    let mut weaker = pattern(10, 0);
    weaker.steps = restart("n8n-worker");
    let sym = Symptom::new("ContainerDown", Labels::new());
    let failed = failure(None, &sym, &strong.steps, "still firing", t0());
    let got = choose(
        &[strong.clone(), weaker.clone()],
        std::slice::from_ref(&failed),
        t0(),
        &cfg,
    );
    assert_eq!(got.pattern().unwrap().0.id, weaker.id);
    assert_eq!(
        choose(std::slice::from_ref(&strong), &[failed], t0(), &cfg),
        PatternMatch::None
    );
}

#[test]
fn a_placeholder_pattern_whose_filled_plan_failed_is_not_chosen() {
    let cfg = LearningConfig::default();
    let mut seed = pattern(50, 0);
    seed.steps = vec![Step::shell("{host}", "docker start {container}")];
    let filled = vec![Step::shell("web1", "docker start n8n")];
    let sym = Symptom::new("ContainerDown", Labels::new());
    let failed = failure(None, &sym, &filled, "still firing", t0());
    let fill = |_: &Pattern| filled.clone();
    assert_eq!(
        tier_of(&choose(
            std::slice::from_ref(&seed),
            std::slice::from_ref(&failed),
            t0(),
            &cfg
        )),
        "cached",
        "unfilled, the plans differ"
    );
    assert_eq!(
        choose_filled(std::slice::from_ref(&seed), &[failed], t0(), &cfg, fill),
        PatternMatch::None
    );
    // A pattern that fills to nothing is never offered.
    assert_eq!(
        choose_filled(&[seed], &[], t0(), &cfg, |_| Vec::new()),
        PatternMatch::None
    );
}

#[test]
fn lookup_signatures_reach_generic_seeds() {
    let specific = symptom(
        &alert(&[("alertname", "ContainerDown"), ("container", "n8n")]),
        None,
    );
    let generic = Symptom::new("ContainerDown", Labels::new());
    assert_eq!(
        specific.lookup_signatures(),
        vec![specific.signature.clone(), generic.signature.clone()]
    );
    assert_eq!(generic.lookup_signatures(), vec![generic.signature]);
}

#[test]
fn choice_does_not_depend_on_order() {
    let cfg = LearningConfig::default();
    let a = pattern(20, 0);
    let mut b = pattern(20, 0);
    b.steps = restart("other");
    let first = choose(&[a.clone(), b.clone()], &[], t0(), &cfg);
    let second = choose(&[b, a], &[], t0(), &cfg);
    assert_eq!(first, second);
}

#[test]
fn decay_with_age_lowers_confidence() {
    let cfg = LearningConfig::default();
    let p = pattern(20, 0);
    let fresh = confidence(&p, t0(), &cfg);
    let month = confidence(&p, t0() + Duration::days(30), &cfg);
    let year = confidence(&p, t0() + Duration::days(365), &cfg);
    assert!(fresh > month && month > year, "{fresh} {month} {year}");
    assert_eq!(
        tier_of(&choose(std::slice::from_ref(&p), &[], t0(), &cfg)),
        "cached"
    );
    assert_eq!(
        tier_of(&choose(&[p], &[], t0() + Duration::days(365), &cfg)),
        "none"
    );
    // A clock that went backwards never inflates the evidence.
    let p = pattern(20, 0);
    assert_eq!(confidence(&p, t0() - Duration::days(3), &cfg), fresh);
}

#[test]
fn learn_creates_strengthens_and_weakens() {
    let sym = Symptom::new("ContainerDown", Labels::new());
    let steps = restart("n8n");
    assert_eq!(
        learn(None, &sym, &steps, false, PatternSource::Llm, t0()),
        None
    );
    assert_eq!(learn(None, &sym, &[], true, PatternSource::Llm, t0()), None);
    let created = learn(None, &sym, &steps, true, PatternSource::Llm, t0()).unwrap();
    assert_eq!((created.successes, created.failures), (1, 0));
    assert_eq!(created.signature, sym.signature);
    let later = t0() + Duration::hours(1);
    let stronger = learn(
        Some(&created),
        &sym,
        &steps,
        true,
        PatternSource::Llm,
        later,
    )
    .unwrap();
    assert_eq!(
        (stronger.successes, stronger.failures, stronger.id),
        (2, 0, created.id)
    );
    assert_eq!(stronger.last_used, Some(later));
    let weaker = learn(
        Some(&stronger),
        &sym,
        &steps,
        false,
        PatternSource::Llm,
        later,
    )
    .unwrap();
    assert_eq!((weaker.successes, weaker.failures), (2, 1));
    // A pattern for another symptom is not "existing" for this one.
    let specific = Symptom::new(
        "ContainerDown",
        Labels::from([("container".to_string(), "n8n".to_string())]),
    );
    let other = learn(
        Some(&created),
        &specific,
        &steps,
        true,
        PatternSource::Deterministic,
        later,
    )
    .unwrap();
    assert_ne!(other.id, created.id);
    assert_eq!(other.signature, specific.signature);
    assert_eq!(other.source, PatternSource::Deterministic);
    assert_eq!(
        learn(
            Some(&created),
            &specific,
            &steps,
            false,
            PatternSource::Llm,
            later
        ),
        None
    );
    // A placeholder pattern run with filled steps is strengthened, keeping its steps.
    let mut seed = created.clone();
    seed.steps = vec![Step::shell("{host}", "docker restart {container}")];
    let filled = learn(Some(&seed), &sym, &steps, true, PatternSource::Llm, later).unwrap();
    assert_eq!((filled.id, filled.successes), (seed.id, 2));
    assert_eq!(filled.steps, seed.steps);
}

#[test]
fn failures_count_again() {
    let sym = Symptom::new("ServiceDown", Labels::new());
    let steps = restart("api");
    let first = failure(None, &sym, &steps, "exit 1", t0());
    assert_eq!(first.failures, 1);
    assert_eq!(first.summary, vec!["web1: docker restart api".to_string()]);
    assert_eq!(first.plan_signature, steps_signature(&steps));
    let second = failure(Some(&first), &sym, &steps, "still firing", t0());
    assert_eq!(
        (second.failures, second.reason.as_str()),
        (2, "still firing")
    );
}

#[test]
fn index_finds_patterns_by_signature() {
    let cfg = LearningConfig::default();
    let mut index: PatternIndex = (0..100)
        .map(|i| {
            let sym = Symptom::new(format!("Alert{i}"), Labels::new());
            let mut p = pattern(20, 0);
            p.signature = sym.signature;
            p.alert_name = sym.alert_name;
            p
        })
        .collect();
    assert_eq!(index.len(), 100);
    let sym = Symptom::new("Alert42", Labels::new());
    assert_eq!(index.candidates(&sym.signature).len(), 1);
    assert_eq!(tier_of(&index.choose(&sym, &[], t0(), &cfg)), "cached");
    let id = index.candidates(&sym.signature)[0].id;
    assert!(index.remove(&sym.signature, id).is_some());
    assert_eq!(index.len(), 99);
    assert_eq!(tier_of(&index.choose(&sym, &[], t0(), &cfg)), "none");
}

fn attempt(tier: Tier, calls: u32, input: u64, output: u64) -> Attempt {
    let usage = LlmUsage {
        calls,
        input_tokens: input,
        output_tokens: output,
        iterations: calls,
    };
    Attempt {
        id: AttemptId::new(),
        incident: IncidentId::new(),
        key: RouteKey::new("ContainerDown", "web1"),
        tier,
        plan: Plan::new(tier, restart("n8n")),
        steps: Vec::new(),
        verification: None,
        outcome: Outcome::Resolved,
        usage,
        counts_toward_limit: true,
        started_at: t0(),
        finished_at: t0(),
    }
}

#[test]
fn analytics_prices_the_tokens_cached_attempts_saved() {
    let cfg = LearningConfig::default();
    let attempts = [
        attempt(Tier::FullReasoning, 2, 10_000, 2_000),
        attempt(Tier::HintAssisted, 1, 6_000, 1_000),
        attempt(Tier::Cached, 0, 0, 0),
        attempt(Tier::Cached, 0, 0, 0),
        attempt(Tier::Deterministic, 0, 0, 0),
    ];
    let mut seeded = pattern(3, 0);
    seeded.source = PatternSource::Seeded;
    let report = analytics(&[pattern(7, 1), seeded], &attempts, &cfg);
    assert_eq!(report.patterns, 2);
    assert_eq!(report.patterns_by_source["seeded"], 1);
    assert_eq!(report.verified_successes, 10);
    assert_eq!(report.cached_attempts, 2);
    assert!((report.cache_hit_rate - 0.4).abs() < 1e-12);
    assert_eq!(report.tiers["deterministic"], 1);
    assert_eq!(report.tiers["full_reasoning"], 1);
    // Average LLM attempt: 1.5 calls, 8,000 in, 1,500 out; two cached attempts saved twice that.
    assert_eq!(report.llm_calls_saved, 3);
    assert_eq!(report.input_tokens_saved, 16_000);
    assert_eq!(report.output_tokens_saved, 3_000);
    assert_eq!(report.tokens_saved, 19_000);
    assert!((report.cost_saved_usd - (16_000.0 * 3.0 + 3_000.0 * 15.0) / 1e6).abs() < 1e-9);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["cached_attempts"], 2);
    assert_eq!(analytics(&[], &[], &cfg).cache_hit_rate, 0.0);
}

fn parse_seeds(text: &str) -> Result<Vec<Pattern>, SeedError> {
    let document: serde_json::Value = toml::from_str(text).expect("valid toml");
    seeds_from_document(document, t0())
}

#[test]
fn example_seed_file_parses() {
    let text = include_str!("../../../examples/seeds.toml");
    let seeds = parse_seeds(text).unwrap();
    let names: std::collections::BTreeSet<_> =
        seeds.iter().map(|p| p.alert_name.as_str()).collect();
    for runbook in [
        "ContainerDown",
        "ServiceDown",
        "DiskSpaceLow",
        "HighMemoryUsage",
        "BackupStale",
        "WireGuardVPNDown",
        "FrigateDatabaseError",
        "CertificateExpiring",
    ] {
        assert!(names.contains(runbook), "no seed for {runbook}");
    }
    for seed in &seeds {
        assert_eq!(seed.source, PatternSource::Seeded);
        assert_eq!(
            seed.signature,
            Symptom::new(seed.alert_name.clone(), seed.symptom.clone()).signature
        );
        // Seeds are hints, never trusted enough to run without the LLM.
        let m = choose(
            std::slice::from_ref(seed),
            &[],
            t0(),
            &LearningConfig::default(),
        );
        assert_eq!(tier_of(&m), "hint", "{}", seed.alert_name);
    }
}

#[test]
fn seed_errors_name_the_entry() {
    let check = |text: &str, expected: &str| {
        let err = parse_seeds(text).unwrap_err().to_string();
        assert!(err.contains(expected), "{err:?} lacks {expected:?}");
    };
    check(
        r#"
[[patterns]]
alert_name = "ContainerDown"
steps = [{ kind = "shell", host = "{host}", command = "docker start {container}" }]

[[patterns]]
name = "broken-disk"
alert_name = "DiskSpaceLow"
steps = [{ kind = "teleport", host = "{host}" }]
"#,
        "seed pattern #2 (broken-disk)",
    );
    check(
        r#"
[[patterns]]
alert_name = "ServiceDown"
steps = []
"#,
        "seed pattern #1 (ServiceDown) is invalid: steps is empty",
    );
    check(
        r#"
[[patterns]]
alert_name = "ServiceDown"
colour = "blue"
steps = [{ kind = "wait", duration = 5 }]
"#,
        "unknown field `colour`",
    );
    check(
        r#"
[[patterns]]
name = "typo"
alert_name = "ServiceDown"
steps = [{ kind = "shell", host = "{hots}", command = "true" }]
"#,
        "seed pattern #1 (typo) is invalid: step 1 uses unknown placeholder {hots}",
    );
    check(
        r#"
[[patterns]]
alert_name = "ServiceDown"
symptom = { instance = "web1:9100" }
steps = [{ kind = "wait", duration = 5 }]
"#,
        "symptom label \"instance\"",
    );
    check(
        r#"
[[patterns]]
alert_name = "ServiceDown"
steps = [{ kind = "wait", duration = 5 }]
[[patterns]]
name = "again"
alert_name = "ServiceDown"
steps = [{ kind = "wait", duration = 5 }]
"#,
        "seed pattern #2 (again) is invalid: same symptom and steps as seed pattern #1",
    );
    check("pattern = []", "seed document is invalid");
}

#[test]
fn placeholders_are_filled_from_hints() {
    let steps = vec![
        Step::shell("{host}", "docker start {container}").with_reason("start {container}"),
        Step::new(crate::domain::Action::Wait {
            duration: std::time::Duration::from_secs(5),
        }),
    ];
    let values = BTreeMap::from([("host", "web1"), ("container", "n8n")]);
    let filled = fill_placeholders(&steps, &values).unwrap();
    assert_eq!(filled[0].action.summary(), "web1: docker start n8n");
    assert_eq!(filled[0].reason, "start {container}");
    assert_eq!(filled[1], steps[1]);
    let missing = fill_placeholders(&steps, &BTreeMap::from([("host", "web1")]));
    assert_eq!(missing, Err(PlaceholderError::Missing("container".into())));
}

use std::collections::BTreeMap;

proptest! {
    #[test]
    fn confidence_is_a_monotone_probability(
        successes in 0u32..10_000,
        failures in 0u32..10_000,
        age_days in 0i64..2_000,
        prior_s in 0.0f64..5.0,
        prior_f in 0.0f64..5.0,
        half_life in 0.5f64..365.0,
    ) {
        let cfg = LearningConfig {
            prior_successes: prior_s,
            prior_failures: prior_f,
            half_life_days: half_life,
            ..LearningConfig::default()
        };
        let now = t0() + Duration::days(age_days);
        let base = confidence(&pattern(successes, failures), now, &cfg);
        prop_assert!((0.0..=1.0).contains(&base), "{}", base);
        let more_successes = confidence(&pattern(successes + 1, failures), now, &cfg);
        prop_assert!(more_successes >= base - 1e-12, "{} < {}", more_successes, base);
        let more_failures = confidence(&pattern(successes, failures + 1), now, &cfg);
        prop_assert!(more_failures <= base + 1e-12, "{} > {}", more_failures, base);
    }
}
