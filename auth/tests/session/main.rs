//! The session core (`leptos_oidc_auth::Session`), natively: its state machine, renewal,
//! sign-out order and start-up routing, driven through its public API against a scripted
//! provider and a fake tab (world.rs), on a single-threaded executor whose clock the
//! tests move. What each case asserts is what a person or the provider would see: the
//! states shown, the requests made and their order, the tokens handed out, where the tab
//! went, what storage holds.
#![cfg(not(target_arch = "wasm32"))]

mod world;

use leptos_oidc_auth::{AuthError, AuthState, Session};
use world::{Endpoint, Fault, ISSUER, T0, TTL, Tab, World};

use Endpoint::*;

fn access_token(world: &World, session: &Session<Tab>) -> Result<String, AuthError> {
    let session = session.clone();
    world.run(async move { session.access_token().await }).expect("answered without waiting on the provider")
}

fn signed_in_name(session: &Session<Tab>) -> Option<String> {
    match session.state() {
        AuthState::SignedIn(user) => user.name,
        _ => None,
    }
}

#[test]
fn a_sign_in_round_trip_signs_the_person_in_and_stores_no_token() {
    let world = World::new();
    let home = world.open("/");
    assert_eq!(world.endpoints(0), [Config, Discovery], "config, then the metadata warmed for the click");
    assert_eq!(home.state(), AuthState::SignedOut);

    home.sign_in("/orders?page=2");
    world.settle();
    assert_eq!(home.state(), AuthState::Redirecting);
    let authorize = world.left_for.borrow().last().cloned().unwrap_or_default();
    assert!(authorize.starts_with(&format!("{ISSUER}/auth?")), "{authorize}");
    assert_eq!(world.request_count(), 2, "the click made no request of its own: all was loaded");

    let callback = world.approve();
    let before = world.request_count();
    let session = world.open(&callback);
    assert_eq!(
        world.endpoints(before),
        [CodeExchange, Keys, UserInfo],
        "config and metadata from this tab's cache; the keys fetched beside the exchange"
    );
    let states = world.states.borrow().clone();
    assert_eq!(states[0], AuthState::Exchanging);
    match &states[1..] {
        [AuthState::SignedIn(from_id_token), AuthState::SignedIn(from_userinfo)] => {
            assert_eq!((from_id_token.name.as_deref(), from_id_token.profile_loaded), (Some("Alice"), false));
            assert_eq!((from_userinfo.name.as_deref(), from_userinfo.profile_loaded), (Some("Alice Liddell"), true));
        }
        other => panic!("signed in from the ID token, then completed from UserInfo: {other:?}"),
    }
    assert_eq!(world.requests.borrow()[before].url, format!("{ISSUER}/token"));
    assert_eq!(world.page(), "/orders?page=2", "back where the person started, the code gone from the address bar");
    assert_eq!(access_token(&world, &session), Ok(world.access_tokens()[0].clone()));

    let storage = world.storage.borrow();
    assert!(!storage.keys().any(|key| key.contains("pending")), "the pending sign-in was used up: {storage:?}");
    for value in storage.values() {
        for secret in ["at-", "rt-", "code-", "code_verifier", "eyJ"] {
            assert!(!value.contains(secret), "{secret} stored: {value}");
        }
    }
}

#[test]
fn start_up_routing() {
    struct Case {
        name: &'static str,
        /// A page loaded before in this tab (its config and metadata cached), if any.
        earlier: Option<&'static str>,
        fault: Option<(Endpoint, Fault)>,
        url: &'static str,
        requests: Vec<Endpoint>,
        state: fn(&AuthState) -> bool,
    }
    let cases = [
        Case {
            name: "home page: config, then metadata warmed; nobody signed in",
            earlier: None,
            fault: None,
            url: "/",
            requests: vec![Config, Discovery],
            state: |s| *s == AuthState::SignedOut,
        },
        Case {
            name: "callback route with nothing in it: the config tells the route, no sign-in in progress",
            earlier: None,
            fault: None,
            url: "/callback",
            requests: vec![Config],
            state: |s| *s == AuthState::Failed(AuthError::NoSignInInProgress),
        },
        Case {
            name: "callback route in a tab that loaded before: no config fetch, `iss` checked first",
            earlier: Some("/"),
            fault: None,
            url: "/callback?code=forged&state=not-ours",
            requests: vec![],
            state: |s| *s == AuthState::Failed(AuthError::IssuerMissing),
        },
        Case {
            name: "a forged response with no sign-in in progress: nothing exchanged",
            earlier: Some("/"),
            fault: None,
            url: "/callback?code=forged&state=not-ours&iss=https%3A%2F%2Fid.example",
            requests: vec![],
            state: |s| *s == AuthState::Failed(AuthError::NoSignInInProgress),
        },
        Case {
            name: "config answers 500: the app says it is not set up",
            earlier: None,
            fault: Some((Config, Fault::Answer(500, "oops"))),
            url: "/",
            requests: vec![Config],
            state: |s| matches!(s, AuthState::Failed(AuthError::Config(_))),
        },
        Case {
            name: "metadata unreachable at start-up: signed out, no error shown yet",
            earlier: None,
            fault: Some((Discovery, Fault::NetworkDown)),
            url: "/",
            requests: vec![Config, Discovery],
            state: |s| *s == AuthState::SignedOut,
        },
    ];
    for case in cases {
        let world = World::new();
        if let Some(earlier) = case.earlier {
            world.open(earlier);
        }
        if let Some((endpoint, fault)) = case.fault {
            world.fault(endpoint, fault);
        }
        let before = world.request_count();
        let session = world.open(case.url);
        assert!((case.state)(&session.state()), "{}: {:?}", case.name, session.state());
        // RFC 8414 §3 is the second discovery URL, tried when the first fails.
        let requests: Vec<_> = world.endpoints(before).into_iter().filter(|e| *e != Other).collect();
        assert_eq!(requests, case.requests, "{}", case.name);
    }
}

#[test]
fn a_sign_in_clicked_during_start_up_waits_for_the_one_config_load() {
    let world = World::new();
    world.fault(Config, Fault::Hold);
    let home = world.open("/");
    assert_eq!(home.state(), AuthState::Starting, "not known yet while the config loads");
    home.sign_in("/");
    world.settle();
    world.release();
    assert_eq!(world.endpoints(0), [Config, Discovery], "one config load, one discovery, shared");
    assert_eq!(world.left_for.borrow().len(), 1, "and the tab left for the provider");
    assert_eq!(home.state(), AuthState::Redirecting, "start-up did not overwrite the sign-in with SignedOut");
}

#[test]
fn a_failed_discovery_at_start_up_is_tried_again_by_the_click() {
    let world = World::new();
    world.fault(Discovery, Fault::NetworkDown);
    let home = world.open("/");
    let before = world.request_count();
    home.sign_in("/");
    world.settle();
    assert_eq!(world.endpoints(before), [Discovery]);
    assert_eq!(home.state(), AuthState::Redirecting);
    assert_eq!(world.left_for.borrow().len(), 1, "the tab left for the provider");
}

#[test]
fn a_callback_is_used_once() {
    let world = World::new();
    let home = world.open("/");
    home.sign_in("/");
    world.settle();
    let callback = world.approve();
    world.open(&callback);
    let before = world.request_count();
    let replay = world.open(&callback);
    assert_eq!(replay.state(), AuthState::Failed(AuthError::NoSignInInProgress), "the pending sign-in was taken");
    assert_eq!(world.endpoints(before), [], "no second code exchange");
}

#[test]
fn renewals_rotate_the_refresh_token_in_order() {
    let world = World::new();
    let session = world.signed_in();
    let first = world.access_tokens()[0].clone();
    let start = world.request_count();

    world.advance(TTL - 31);
    assert_eq!(access_token(&world, &session), Ok(first.clone()), "not due yet");
    assert_eq!(world.endpoints(start), [], "no renewal before it is due");

    world.advance(1);
    let presented = world.live_refresh_token();
    assert_eq!(access_token(&world, &session), Ok(first.clone()), "due but valid: the current token at once");
    assert_eq!(world.endpoints(start), [Refresh, Keys], "and one renewal beside the caller");
    assert_eq!(world.requests.borrow()[start].form.get("refresh_token"), presented.as_ref());
    let second = world.access_tokens()[1].clone();
    assert_eq!(access_token(&world, &session), Ok(second.clone()), "the renewed token from then on");

    world.advance(TTL - 30);
    let presented = world.live_refresh_token();
    assert_eq!(access_token(&world, &session), Ok(second));
    assert_eq!(world.endpoints(start), [Refresh, Keys, Refresh, Keys]);
    assert_eq!(
        world.requests.borrow()[start + 2].form.get("refresh_token"),
        presented.as_ref(),
        "the second renewal presents the rotated refresh token"
    );
    assert_eq!(access_token(&world, &session), Ok(world.access_tokens()[2].clone()));
    assert_eq!(signed_in_name(&session).as_deref(), Some("Alice Liddell"), "the same person throughout");
}

#[test]
fn callers_share_one_renewal() {
    for (name, wait, expired) in [("due", TTL - 30, false), ("expired", TTL, true)] {
        let world = World::new();
        let session = world.signed_in();
        let first = world.access_tokens()[0].clone();
        let start = world.request_count();
        world.advance(wait);
        world.fault(Refresh, Fault::Hold);
        let callers: Vec<_> = (0..3)
            .map(|_| {
                let session = session.clone();
                world.spawn(async move { session.access_token().await })
            })
            .collect();
        world.settle();
        assert_eq!(world.endpoints(start), [Refresh], "{name}: one renewal for three callers");
        let answered_before: Vec<_> = callers.iter().map(|c| c.take()).collect();
        world.release();
        let second = world.access_tokens()[1].clone();
        for (before, caller) in answered_before.into_iter().zip(&callers) {
            if expired {
                assert_eq!(before, None, "{name}: an expired token makes callers wait");
                assert_eq!(caller.take(), Some(Ok(second.clone())), "{name}: and they get the renewed one");
            } else {
                assert_eq!(before, Some(Ok(first.clone())), "{name}: a valid token is answered at once");
            }
        }
        assert_eq!(world.endpoints(start), [Refresh, Keys], "{name}");
    }
}

#[test]
fn renewal_failures() {
    struct Case {
        name: &'static str,
        faults: Vec<(Endpoint, Fault)>,
        sub: Option<&'static str>,
        /// What the caller whose token expired gets.
        answer: fn(&Result<String, AuthError>) -> bool,
        /// Whether the person stays signed in (a passing fault).
        stays: bool,
    }
    let ended = |r: &Result<String, AuthError>| *r == Err(AuthError::SessionExpired);
    let cases = [
        Case {
            name: "refused: invalid_grant",
            faults: vec![(Refresh, Fault::Answer(400, r#"{"error":"invalid_grant"}"#))],
            sub: None,
            answer: ended,
            stays: false,
        },
        Case {
            name: "refused with 401 invalid_client",
            faults: vec![(Refresh, Fault::Answer(401, r#"{"error":"invalid_client"}"#))],
            sub: None,
            answer: ended,
            stays: false,
        },
        Case {
            name: "a 500 that is not JSON",
            faults: vec![(Refresh, Fault::Answer(500, "<h1>Internal Server Error</h1>"))],
            sub: None,
            answer: |r| matches!(r, Err(AuthError::TokenRejected { status: 500, .. })),
            stays: true,
        },
        Case {
            name: "503 temporarily_unavailable",
            faults: vec![(Refresh, Fault::Answer(503, r#"{"error":"temporarily_unavailable"}"#))],
            sub: None,
            answer: |r| matches!(r, Err(AuthError::TokenRejected { status: 503, .. })),
            stays: true,
        },
        Case {
            name: "network down",
            faults: vec![(Refresh, Fault::NetworkDown)],
            sub: None,
            answer: |r| matches!(r, Err(AuthError::Network(_))),
            stays: true,
        },
        Case {
            name: "time-out",
            faults: vec![(Refresh, Fault::Timeout)],
            sub: None,
            answer: |r| *r == Err(AuthError::Timeout),
            stays: true,
        },
        Case {
            name: "the keys do not load: the renewed tokens are kept",
            faults: vec![(Keys, Fault::Answer(404, "{}"))],
            sub: None,
            answer: |r| r.as_ref().is_ok_and(|token| token.starts_with("at-")),
            stays: true,
        },
        Case {
            name: "an ID token for another person",
            faults: vec![],
            sub: Some("mallory"),
            answer: ended,
            stays: false,
        },
        Case {
            name: "a 200 without an access token, with a refresh token",
            faults: vec![(Refresh, Fault::Answer(200, r#"{"token_type":"Bearer","refresh_token":"rt-stray"}"#))],
            sub: None,
            answer: ended,
            stays: false,
        },
    ];
    for case in cases {
        let world = World::new();
        let session = world.signed_in();
        let start = world.request_count();
        world.advance(TTL);
        for (endpoint, fault) in case.faults {
            world.fault(endpoint, fault);
        }
        if let Some(sub) = case.sub {
            world.set_sub(sub);
        }
        let answer = access_token(&world, &session);
        assert!((case.answer)(&answer), "{}: {answer:?}", case.name);
        assert_eq!(world.endpoints(start).first(), Some(&Refresh), "{}", case.name);
        let signed_in = matches!(session.state(), AuthState::SignedIn(_));
        assert_eq!(signed_in, case.stays, "{}: {:?}", case.name, session.state());
        if !case.stays {
            assert_eq!(session.state(), AuthState::Failed(AuthError::SessionExpired), "{}", case.name);
            assert_eq!(access_token(&world, &session), Err(AuthError::NotSignedIn), "{}: tokens gone", case.name);
            continue;
        }
        if answer.is_ok() {
            assert_eq!(signed_in_name(&session).as_deref(), Some("Alice Liddell"), "{}", case.name);
            continue;
        }
        // A passing fault: no new request for RETRY_AFTER_SECS, then one that succeeds.
        let after_failure = world.request_count();
        world.advance(9);
        assert_eq!(access_token(&world, &session), answer, "{}: the same error while backing off", case.name);
        assert_eq!(world.request_count(), after_failure, "{}: the provider is not asked again yet", case.name);
        world.advance(1);
        let renewed = access_token(&world, &session);
        assert_eq!(renewed, Ok(world.access_tokens().last().cloned().unwrap_or_default()), "{}", case.name);
        assert_eq!(world.endpoints(after_failure), [Refresh, Keys], "{}: tried again after 10 s", case.name);
    }
}

#[test]
fn a_stray_refresh_token_in_a_refused_answer_is_revoked() {
    let world = World::new();
    let session = world.signed_in();
    world.advance(TTL);
    world.fault(Refresh, Fault::Answer(200, r#"{"token_type":"Bearer","refresh_token":"rt-stray"}"#));
    assert_eq!(access_token(&world, &session), Err(AuthError::SessionExpired));
    assert_eq!(world.revoked(), ["rt-stray"]);
}

#[test]
fn sign_out_during_a_renewal_waits_for_it_then_revokes_both_refresh_tokens() {
    let world = World::new();
    let session = world.signed_in();
    let old_refresh = world.live_refresh_token().expect("a refresh token");
    world.advance(TTL - 30);
    world.fault(Refresh, Fault::Hold);
    assert!(access_token(&world, &session).is_ok(), "a renewal starts beside the caller");
    let left_before = world.left_for.borrow().len();

    session.sign_out();
    world.settle();
    assert_eq!(session.state(), AuthState::SigningOut);
    assert_eq!(world.revoked(), std::slice::from_ref(&old_refresh), "the refresh token in hand is revoked at once");
    assert_eq!(world.left_for.borrow().len(), left_before, "the tab waits for the renewal's answer");

    world.release();
    let rotated = world.access_tokens().len();
    assert_eq!(rotated, 2, "the renewal was answered");
    let revoked = world.revoked();
    assert_eq!(revoked.len(), 2, "{revoked:?}");
    assert_ne!(revoked[1], old_refresh, "the rotated refresh token is revoked too");
    assert_eq!(world.live_refresh_token(), None, "nothing is left alive at the provider");
    let logout = world.left_for.borrow().last().cloned().unwrap_or_default();
    assert!(logout.starts_with(&format!("{ISSUER}/logout?")) && logout.contains("id_token_hint="), "{logout}");
    assert_eq!(access_token(&world, &session), Err(AuthError::NotSignedIn));
}

#[test]
fn sign_out_leaves_after_5_s_when_the_renewal_never_answers() {
    let world = World::new();
    let session = world.signed_in();
    world.advance(TTL - 30);
    world.fault(Refresh, Fault::Hold);
    let _ = access_token(&world, &session);
    let left_before = world.left_for.borrow().len();
    session.sign_out();
    world.advance_ms(4_999);
    assert_eq!(world.left_for.borrow().len(), left_before, "still waiting at 4.999 s");
    world.advance_ms(1);
    assert_eq!(world.left_for.borrow().len(), left_before + 1, "left for the provider at 5 s");
}

#[test]
fn sign_out_without_a_provider_logout_lands_signed_out_at_home() {
    let world = World::new();
    world.without_end_session();
    let session = world.signed_in();
    let refresh = world.live_refresh_token().expect("a refresh token");
    let left_before = world.left_for.borrow().len();
    session.sign_out();
    world.settle();
    assert_eq!(session.state(), AuthState::SignedOut);
    assert!(session.signed_out_by_user());
    assert_eq!(world.page(), "/");
    assert_eq!(world.left_for.borrow().len(), left_before, "the tab stayed");
    assert_eq!(world.revoked(), [refresh]);
    session.sign_out();
    assert_eq!(world.revoked().len(), 1, "a second sign-out has nothing to revoke");
}

#[test]
fn a_page_shown_again_after_leaving_for_the_provider_is_signed_out() {
    let world = World::new();
    let home = world.open("/");
    home.sign_in("/");
    world.settle();
    assert_eq!(home.state(), AuthState::Redirecting);
    home.page_shown();
    assert_eq!(home.state(), AuthState::SignedOut, "back from the provider's page with the back button");

    let session = world.signed_in();
    session.page_shown();
    assert!(matches!(session.state(), AuthState::SignedIn(_)), "a signed-in page is left as it is");
}

#[test]
fn a_profile_reload_with_an_expired_token_renews_first() {
    let world = World::new();
    let session = world.signed_in();
    world.advance(TTL);
    let start = world.request_count();
    let reload = {
        let session = session.clone();
        world.run(async move { session.reload_profile().await }).expect("answered")
    };
    assert_eq!(reload.map(|user| user.name), Ok(Some("Alice Liddell".into())));
    assert_eq!(world.endpoints(start), [Refresh, Keys, UserInfo]);
    let renewed = world.access_tokens()[1].clone();
    assert_eq!(world.requests.borrow()[start + 2].bearer.as_ref(), Some(&renewed), "with the renewed token");
}

#[test]
fn expiry_edges() {
    // Tokens of 10 s: due half-way (5 s), expired at 10 s.
    let world = World::new();
    world.set_ttl(10);
    let session = world.signed_in();
    let first = world.access_tokens()[0].clone();
    let start = world.request_count();
    world.advance(4);
    assert_eq!(access_token(&world, &session), Ok(first.clone()));
    assert_eq!(world.endpoints(start), [], "not due at 4 s");
    world.advance(1);
    world.fault(Refresh, Fault::Hold);
    assert_eq!(access_token(&world, &session), Ok(first.clone()), "due at 5 s: the current token");
    world.advance(4);
    assert_eq!(access_token(&world, &session), Ok(first), "at 9 s, still valid, while the renewal is out");
    world.advance(1);
    let waiting = {
        let session = session.clone();
        world.spawn(async move { session.access_token().await })
    };
    world.settle();
    assert_eq!(waiting.take(), None, "at 10 s the caller waits for the renewal");
    world.release();
    assert_eq!(waiting.take(), Some(Ok(world.access_tokens()[1].clone())));
    assert_eq!(world.endpoints(start), [Refresh, Keys], "one renewal all along");
    assert_eq!(world.now(), T0 + 10);
}

#[test]
fn a_session_that_is_not_signed_in_has_no_token() {
    let world = World::new();
    let home = world.open("/");
    assert_eq!(access_token(&world, &home), Err(AuthError::NotSignedIn));
    assert_eq!(world.endpoints(0), [Config, Discovery], "and asks nobody");
}
