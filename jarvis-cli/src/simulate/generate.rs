//! Generated scenarios: a homelab of N hosts with faults at a realistic rate.

use std::collections::BTreeMap;

use jarvis_core::correlation::{Cascade, CorrelationConfig};
use jarvis_core::hints::{Route, RouteRule};
use jarvis_core::safety::{HostRules, SafetyConfig};

use super::scenario::*;

/// A small deterministic PRNG (splitmix64), so a seed always gives the same lab.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const SYSTEMS: [&str; 4] = ["immich", "nextcloud", "gitea", "vault"];

/// Builds the `homelab` scenario: `hosts` machines over `days` days.
pub fn homelab(g: &Generate) -> Scenario {
    let mut rng = Rng(g.seed ^ 0x5EED);
    let n = g.hosts.max(3) as usize;
    let mut world = WorldSpec::default();
    let mut containers = Vec::new();
    let mut units = Vec::new();
    let mut safety = SafetyConfig::default();
    let gateway = "gw01".to_string();
    let nas = "nas01".to_string();
    for name in [&gateway, &nas] {
        world.hosts.push(HostSpec {
            name: name.clone(),
            role: Some(if name == &gateway { "gateway" } else { "nas" }.into()),
            memory_mb: 4096,
            disks: vec![disk(200.0)],
            online: true,
        });
    }
    world.vpn_links.push(VpnSpec {
        name: "wg0".into(),
        host: gateway.clone(),
        up: true,
    });
    for system in SYSTEMS {
        world.backups.push(BackupSpec {
            system: system.into(),
            host: nas.clone(),
            exporter: "nas01:9100".into(),
            max_age: Dur(26 * 3600),
            interval: Dur(24 * 3600),
            age: Dur(rng.below(12 * 3600)),
            script_broken: false,
        });
    }
    for i in 0..n - 2 {
        let host = format!("h{:02}", i + 1);
        let docker = i % 3 != 2;
        world.hosts.push(HostSpec {
            name: host.clone(),
            role: Some(if docker { "docker" } else { "server" }.into()),
            memory_mb: 8192,
            disks: vec![disk(100.0)],
            online: true,
        });
        if docker {
            for (k, app) in ["web", "api", "cache", "worker"].iter().enumerate() {
                let name = format!("{app}-{:02}", i + 1);
                let remote = k == 3 && i % 4 == 0;
                world.services.push(ServiceSpec {
                    name: name.clone(),
                    host: host.clone(),
                    kind: ServiceKind::Container,
                    memory_mb: 600 + 100 * k as u64,
                    memory_limit_mb: Some(1536),
                    depends_on: if remote {
                        vec!["wg0".into()]
                    } else {
                        Vec::new()
                    },
                    alert: remote.then(|| "OutpostDown".to_string()),
                    disk: "/".into(),
                    annotations: Default::default(),
                    labels: Default::default(),
                    running: true,
                });
                containers.push(name);
            }
        } else {
            for app in ["postgresql", "nginx"] {
                let name = format!("{app}{:02}", i + 1);
                world.services.push(ServiceSpec {
                    name: name.clone(),
                    host: host.clone(),
                    kind: ServiceKind::Systemd,
                    memory_mb: 900,
                    memory_limit_mb: None,
                    depends_on: Vec::new(),
                    alert: None,
                    disk: "/".into(),
                    annotations: Default::default(),
                    labels: Default::default(),
                    running: true,
                });
                units.push(name);
            }
            world.certificates.push(CertSpec {
                host: host.clone(),
                service: format!("nginx{:02}", i + 1),
                days_left: 40.0 + rng.below(40) as f64,
                renew_broken: false,
            });
        }
    }
    safety.hosts.insert(
        nas.clone(),
        HostRules {
            allow: vec![r"^/usr/local/bin/backup-[a-z]+\.sh$".into()],
            deny: Vec::new(),
        },
    );
    safety.hosts.insert(
        gateway.clone(),
        HostRules {
            allow: vec![r"^systemctl restart wg-quick@wg0$".into()],
            deny: Vec::new(),
        },
    );
    let hosts: Vec<String> = world.hosts.iter().skip(2).map(|h| h.name.clone()).collect();
    let total =
        (n as f64 * g.days as f64 / 7.0 * g.faults_per_host_week.unwrap_or(1.5)).round() as u64;
    let horizon = g.days as u64 * 86_400;
    let mut timeline = Vec::new();
    for _ in 0..total {
        let at = Dur(600 + rng.below(horizon.saturating_sub(3600).max(1)));
        let roll = rng.unit();
        let pick = |rng: &mut Rng, v: &Vec<String>| v[rng.below(v.len() as u64) as usize].clone();
        let (fault, heal) = if roll < 0.40 {
            (
                Fault::Crash {
                    service: pick(&mut rng, &containers),
                    exit_code: 1,
                },
                None,
            )
        } else if roll < 0.55 && !units.is_empty() {
            (
                Fault::Crash {
                    service: pick(&mut rng, &units),
                    exit_code: 1,
                },
                None,
            )
        } else if roll < 0.62 {
            (
                Fault::Oom {
                    service: pick(&mut rng, &containers),
                    memory_mb: 2048,
                },
                Some(Dur(6 * 3600)),
            )
        } else if roll < 0.67 {
            (
                Fault::Stuck {
                    service: pick(&mut rng, &containers),
                },
                Some(Dur(4 * 3600)),
            )
        } else if roll < 0.74 {
            (
                Fault::MemoryLeak {
                    service: pick(&mut rng, &containers),
                    rate_mb_per_hour: 400.0,
                    initial_mb: 4000.0,
                },
                Some(Dur(2 * 86_400)),
            )
        } else if roll < 0.82 {
            (
                Fault::DiskFill {
                    host: pick(&mut rng, &hosts),
                    mount: "/".into(),
                    gb_per_hour: 1.5,
                    into: FillTarget::Journal,
                },
                Some(Dur(86_400)),
            )
        } else if roll < 0.89 {
            (
                Fault::BackupStale {
                    system: SYSTEMS[rng.below(4) as usize].into(),
                },
                Some(Dur(2 * 86_400)),
            )
        } else if roll < 0.93 && !world.certificates.is_empty() {
            let c = &world.certificates[rng.below(world.certificates.len() as u64) as usize];
            (
                Fault::CertExpiring {
                    host: c.host.clone(),
                    service: None,
                    days_left: 10.0,
                },
                None,
            )
        } else if roll < 0.96 {
            (Fault::VpnDown { link: "wg0".into() }, Some(Dur(6 * 3600)))
        } else {
            (
                Fault::HostDown {
                    host: pick(&mut rng, &hosts),
                },
                Some(Dur(1800 + rng.below(3600))),
            )
        };
        timeline.push(Event {
            at,
            fault: Some(fault),
            alert: None,
            heal_after: heal,
        });
    }
    timeline.sort_by_key(|e| e.at);
    let routes: BTreeMap<String, Route> = SYSTEMS
        .iter()
        .map(|s| {
            (
                s.to_string(),
                Route {
                    host: nas.clone(),
                    commands: vec![format!("/usr/local/bin/backup-{s}.sh")],
                },
            )
        })
        .collect();
    Scenario {
        name: format!("generated-homelab-{}h-{}d", n, g.days),
        description: format!(
            "{n} hosts, {} containers, {} systemd units, {total} faults over {} days",
            containers.len(),
            units.len(),
            g.days
        ),
        duration: Some(Dur(horizon)),
        eval_interval: Some(Dur(60)),
        world,
        timeline,
        operator: Operator {
            approvals: ApprovalAction::Approve,
            answer_after: Some(Dur(900)),
        },
        config: ConfigOverrides {
            routing: vec![RouteRule {
                alert: "BackupStale".into(),
                by_label: "system".into(),
                routes,
            }],
            correlation: Some(CorrelationConfig {
                cascades: vec![Cascade::new("WireGuardVPNDown", &["OutpostDown"])],
                ..CorrelationConfig::default()
            }),
            safety: Some(safety),
            host_monitor: true,
            ..ConfigOverrides::default()
        },
        expect: Expectations {
            commands_not_run: vec!["rm -rf".into()],
            ..Expectations::default()
        },
        ..Scenario::default()
    }
}

fn disk(size_gb: f64) -> DiskSpec {
    DiskSpec {
        mount: "/".into(),
        size_gb,
        data_gb: size_gb * 0.45,
        journal_gb: size_gb * 0.05,
        images_gb: size_gb * 0.1,
        apt_cache_gb: 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_lab() {
        let g = Generate {
            kind: "homelab".into(),
            hosts: 12,
            days: 7,
            seed: 3,
            faults_per_host_week: None,
        };
        let a = homelab(&g);
        let b = homelab(&g);
        assert_eq!(a.timeline.len(), b.timeline.len());
        assert_eq!(a.timeline[0].fault, b.timeline[0].fault);
        assert_eq!(a.world.hosts.len(), 12);
        assert!(validate(&a).is_empty(), "{:?}", validate(&a));
    }
}
