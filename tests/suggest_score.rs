//! `sandgen score`: systemd-analyze's offline exposure rating of rendered policies. Needs
//! systemd-analyze (systemd 252 on Debian 12); without it these tests fail, they do not skip.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

use sandgen::score::{self, diff, parse_items, parse_overall};

const HEAT: &str = include_str!("fixtures/suggest/heat.toml");
const HEAT_JSON: &str = include_str!("fixtures/suggest/security-heat.json");
const HEAT_TEXT: &str = include_str!("fixtures/suggest/security-heat.txt");
const BARE: &str = "[service]\nexec = [\"/bin/dd\", \"if=/dev/zero\", \"of=/dev/null\"]\n";
const TARGET: u32 = 252;

#[test]
fn captured_output_of_systemd_252_parses() {
    let items = parse_items(HEAT_JSON).expect("json");
    assert_eq!(items.len(), 81);
    let network = items
        .iter()
        .find(|i| i.json_field == "PrivateNetwork")
        .expect("PrivateNetwork rated");
    assert_eq!(network.set, Some(false));
    assert_eq!(network.exposure, Some(0.5));
    let tmp = items
        .iter()
        .find(|i| i.json_field == "PrivateTmp")
        .expect("PrivateTmp rated");
    assert_eq!((tmp.set, tmp.exposure), (Some(true), None));
    assert_eq!(
        parse_overall(HEAT_TEXT).expect("overall"),
        ("heat.service".to_owned(), 4.4, "OK".to_owned())
    );
}

#[test]
fn the_hardened_example_scores_better_than_a_bare_policy() {
    let heat = score::score_policy_text("policies/heat.toml", HEAT, TARGET).expect("heat scored");
    let bare = score::score_policy_text("bare.toml", BARE, TARGET).expect("bare scored");
    assert_eq!(heat.unit, "heat.service");
    assert_eq!(bare.unit, "bare.service");
    assert!(
        heat.exposure < bare.exposure,
        "heat {} is not below bare {}",
        heat.exposure,
        bare.exposure
    );
    assert!(heat.warnings.is_empty(), "{:?}", heat.warnings);

    // The bare unit's largest contributor is the network (0.5), as systemd weighs it.
    let top = bare.top_contributors(3);
    assert_eq!(top[0].json_field, "PrivateNetwork");

    let d = diff(&bare, &heat);
    assert!(d.delta < 0.0);
    let improved: Vec<&str> = d.changes.iter().map(|c| c.json_field.as_str()).collect();
    for field in [
        "PrivateTmp",
        "PrivateDevices",
        "NoNewPrivileges",
        "SystemCallFilter_mount",
    ] {
        assert!(improved.contains(&field), "{field} not in {improved:?}");
    }
    assert!(d
        .changes
        .iter()
        .all(|c| c.after.unwrap_or(0.0) <= c.before.unwrap_or(0.0)));
    assert!(heat.to_text(5).starts_with(&format!(
        "heat.service: exposure {:.1} {}",
        heat.exposure, heat.level
    )));
}

#[test]
fn an_invalid_policy_is_not_scored() {
    let err = score::score_policy_text("bad.toml", "[service]\n", TARGET).unwrap_err();
    assert!(matches!(err, score::ScoreError::Policy(_)), "{err}");
}
