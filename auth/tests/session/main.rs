//! The session core (`leptos_oidc_auth::Session`), natively: its state machine, renewal,
//! sign-out order and start-up routing, driven through its public API against a scripted
//! provider and a fake tab (world.rs), on a single-threaded executor whose clock the
//! tests move. What each case asserts is what a person or the provider would see: the
//! states shown, the requests made and their order, the tokens handed out, where the tab
//! went, what storage holds.
//!
//! The tests of what callers of `access_token` get run with the page hidden, where the
//! session renews only when asked; the renewal timer's own tests run it shown.
#![cfg(not(target_arch = "wasm32"))]

mod api;
mod dpop;
mod world;

use leptos_oidc_auth::{AuthError, AuthState, Session};
use world::{Endpoint, Fault, ISSUER, ORIGIN, T0, TTL, Tab, World};

use Endpoint::*;

pub(crate) fn access_token(world: &World, session: &Session<Tab>) -> Result<String, AuthError> {
    let session = session.clone();
    world.run(async move { session.access_token().await }).expect("answered without waiting on the provider")
}

/// Lets `session`'s access token fall due and asks for one: it comes from a refresh.
fn assert_renews(world: &World, session: &Session<Tab>, case: &str) {
    world.set_hidden(true);
    world.advance(TTL + 1);
    let before = world.request_count();
    assert!(access_token(world, session).is_ok(), "{case}");
    assert!(world.endpoints(before).contains(&Refresh), "{case}");
}

/// Has the provider refuse `session`'s next renewal (`invalid_grant`): the session ends.
fn end_with_a_refused_renewal(world: &World, session: &Session<Tab>) {
    world.fault(Refresh, Fault::Answer(400, r#"{"error":"invalid_grant"}"#));
    world.set_hidden(true);
    world.advance(TTL + 1);
    assert_eq!(access_token(world, session), Err(AuthError::SessionExpired));
}

/// The ID token the session holds, as its sign-out shows it to the provider.
fn id_token_hint_at_sign_out(world: &World, session: &Session<Tab>) -> String {
    let from = world.request_count();
    session.sign_out();
    world.advance(5);
    world.request_to(Logout, from, 0).form.get("id_token_hint").cloned().unwrap_or_default()
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
    assert_eq!(world.endpoints(2), [Authorize], "the click made no request of its own: all was loaded");

    let callback = world.approve();
    let before = world.request_count();
    world.fault(CodeExchange, Fault::Held);
    let session = world.open(&callback);
    assert_eq!(
        world.endpoints(before),
        [CodeExchange, Keys, Config],
        "the config and metadata the exchange goes by from this tab's cache; the keys and config.json asked for \
         while the exchange is out"
    );
    assert_eq!(world.page(), "/callback", "the code left the address bar before the exchange answered");
    world.release();
    assert_eq!(world.endpoints(before), [CodeExchange, Keys, Config, UserInfo]);
    assert_eq!(world.request_to(CodeExchange, before, 0).url, format!("{ISSUER}/token"));
    match &world.states()[..] {
        [AuthState::Exchanging, AuthState::SignedIn(from_id_token), AuthState::SignedIn(from_userinfo)] => {
            assert_eq!((from_id_token.name.as_deref(), from_id_token.profile_loaded), (Some("Alice"), false));
            assert_eq!((from_userinfo.name.as_deref(), from_userinfo.profile_loaded), (Some("Alice Liddell"), true));
        }
        other => panic!("exchanging, signed in from the ID token, then completed from UserInfo: {other:?}"),
    }
    assert_eq!(world.page(), "/orders?page=2", "back where the person started");
    assert_eq!(access_token(&world, &session), Ok(world.access_tokens()[0].clone()));

    let tab = world.tab();
    let storage = tab.storage.borrow();
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
        state: AuthState,
        /// The address bar afterwards.
        page: &'static str,
    }
    let cases = [
        Case {
            name: "home page: config, then metadata warmed; nobody signed in",
            earlier: None,
            fault: None,
            url: "/?tab=2",
            requests: vec![Config, Discovery],
            state: AuthState::SignedOut,
            page: "/?tab=2",
        },
        Case {
            name: "callback route with nothing in it: the config tells the route; no sign-in in progress",
            earlier: None,
            fault: None,
            url: "/callback",
            requests: vec![Config],
            state: AuthState::Failed(AuthError::NoSignInInProgress),
            page: "/callback",
        },
        Case {
            name: "callback route in a tab that loaded before: the tab's copy, config.json only read beside; `iss` checked first",
            earlier: Some("/"),
            fault: Some((Config, Fault::Answer(500, "oops"))),
            url: "/callback?code=forged&state=not-ours",
            requests: vec![Config],
            state: AuthState::Failed(AuthError::IssuerMissing),
            page: "/callback",
        },
        Case {
            name: "a forged response with no sign-in in progress: nothing exchanged",
            earlier: Some("/"),
            fault: None,
            url: "/callback?code=forged&state=not-ours&iss=https%3A%2F%2Fid.example",
            requests: vec![Config],
            state: AuthState::Failed(AuthError::NoSignInInProgress),
            page: "/callback",
        },
        Case {
            name: "another route in a tab that loaded before: the config is fetched afresh",
            earlier: Some("/"),
            fault: None,
            url: "/profile",
            requests: vec![Config],
            state: AuthState::SignedOut,
            page: "/profile",
        },
        Case {
            name: "config answers 500: the app says it is not set up",
            earlier: None,
            fault: Some((Config, Fault::Answer(500, "oops"))),
            url: "/",
            requests: vec![Config],
            state: AuthState::Failed(AuthError::Config("/config.json answered HTTP 500".into())),
            page: "/",
        },
        Case {
            name: "metadata unreachable at start-up: signed out, no error shown yet",
            earlier: None,
            fault: Some((Discovery, Fault::NetworkDown)),
            url: "/",
            requests: vec![Config, Discovery, Discovery8414],
            state: AuthState::SignedOut,
            page: "/",
        },
    ];
    let mut failures = Vec::new();
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
        let seen = (session.state(), world.endpoints(before), world.page());
        if seen != (case.state.clone(), case.requests.clone(), case.page.to_owned()) {
            failures.push(format!("{}: {seen:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_refused_code_exchange_says_so_and_leaves_the_callback_clean() {
    let world = World::new();
    let callback = world.callback_of_a_sign_in();
    world.fault(CodeExchange, Fault::Answer(400, r#"{"error":"invalid_grant"}"#));
    let session = world.open(&callback);
    assert!(
        matches!(session.state(), AuthState::Failed(AuthError::TokenRejected { status: 400, ref error, .. }) if error.as_deref() == Some("invalid_grant")),
        "{:?}",
        session.state()
    );
    assert_eq!(world.page(), "/callback", "no code or state left in the address bar");
}

#[test]
fn a_sign_in_clicked_during_start_up_waits_for_the_one_config_load() {
    let world = World::new();
    world.fault(Config, Fault::Held);
    let home = world.open("/");
    assert_eq!(home.state(), AuthState::Starting, "not known yet while the config loads");
    home.sign_in("/");
    world.settle();
    world.fault(Discovery, Fault::Held);
    world.release();
    assert_eq!(world.endpoints(0), [Config, Discovery], "one config load, then one discovery for both");
    world.release();
    assert_eq!(world.endpoints(0), [Config, Discovery, Authorize], "the tab left for the provider");
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
    assert_eq!(world.endpoints(before), [Discovery, Authorize]);
    assert_eq!(home.state(), AuthState::Redirecting);
}

#[test]
fn sign_in_refused_by_storage_says_so_and_leaves_nothing() {
    let world = World::new();
    let home = world.open("/");
    world.refuse_storage();
    home.sign_in("/");
    world.settle();
    assert_eq!(home.state(), AuthState::Failed(AuthError::Storage));
    assert_eq!(world.endpoints(2), [], "the tab did not leave for the provider");
}

#[test]
fn start_runs_once_per_page() {
    // A second start while the callback's exchange is out would find the response already
    // scrubbed from the address bar and report no sign-in in progress.
    let world = World::new();
    let callback = world.callback_of_a_sign_in();
    world.fault(CodeExchange, Fault::Held);
    let session = world.open(&callback);
    let before = world.request_count();
    world.run(session.clone().start());
    assert_eq!(session.state(), AuthState::Exchanging, "the second start did nothing");
    assert_eq!(world.endpoints(before), [], "and asked nothing");
    world.release();
    assert!(matches!(session.state(), AuthState::SignedIn(_)), "{:?}", session.state());
}

#[test]
fn a_callback_is_used_once() {
    let world = World::new();
    let callback = world.callback_of_a_sign_in();
    world.open(&callback);
    let before = world.request_count();
    let replay = world.open(&callback);
    assert_eq!(replay.state(), AuthState::Failed(AuthError::NoSignInInProgress), "the pending sign-in was taken");
    assert_eq!(world.endpoints(before), [Config], "no second code exchange (config.json, as on every callback)");
}

#[test]
fn renewals_rotate_the_refresh_token_in_order() {
    let world = World::new();
    world.set_hidden(true);
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
    assert_eq!(world.request_to(Refresh, start, 0).form.get("refresh_token"), presented.as_ref());
    let second = world.access_tokens()[1].clone();
    assert_eq!(access_token(&world, &session), Ok(second.clone()), "the renewed token from then on");

    world.advance(TTL - 30);
    let presented = world.live_refresh_token();
    assert_eq!(access_token(&world, &session), Ok(second));
    assert_eq!(world.endpoints(start), [Refresh, Keys, Refresh, Keys]);
    assert_eq!(
        world.request_to(Refresh, start, 1).form.get("refresh_token"),
        presented.as_ref(),
        "the second renewal presents the rotated refresh token"
    );
    assert_eq!(access_token(&world, &session), Ok(world.access_tokens()[2].clone()));
    let id_tokens = world.id_tokens();
    assert_eq!(
        id_token_hint_at_sign_out(&world, &session),
        id_tokens[2],
        "the session holds the newest verified ID token"
    );
}

#[test]
fn a_provider_that_neither_rotates_nor_reissues_id_tokens_keeps_the_first_ones() {
    let world = World::new();
    world.set_hidden(true);
    world.plain_refreshes();
    let session = world.signed_in();
    let refresh_token = world.live_refresh_token();
    let start = world.request_count();
    world.advance(TTL);
    assert_eq!(access_token(&world, &session), Ok(world.access_tokens()[1].clone()));
    assert_eq!(world.endpoints(start), [Refresh], "no ID token, so no keys asked for");
    world.advance(TTL);
    assert_eq!(access_token(&world, &session), Ok(world.access_tokens()[2].clone()));
    assert_eq!(world.request_to(Refresh, start, 1).form.get("refresh_token"), refresh_token.as_ref());
    assert_eq!(id_token_hint_at_sign_out(&world, &session), world.id_tokens()[0]);
}

#[test]
fn a_renewal_without_a_lifetime_keeps_the_last_one() {
    let world = World::new();
    world.set_hidden(true);
    world.without_lifetimes_after_sign_in();
    let session = world.signed_in();
    let start = world.request_count();
    world.advance(TTL);
    assert!(access_token(&world, &session).is_ok());
    world.advance(TTL - 31);
    assert_eq!(access_token(&world, &session), Ok(world.access_tokens()[1].clone()));
    assert_eq!(world.endpoints(start), [Refresh, Keys], "not due before 570 s of the renewed token's life");
    world.advance(1);
    assert!(access_token(&world, &session).is_ok());
    assert_eq!(world.endpoints(start), [Refresh, Keys, Refresh, Keys], "due at 570 s, as the first one was");
}

#[test]
fn callers_share_one_renewal() {
    for (name, wait, expired) in [("due", TTL - 30, false), ("expired", TTL, true)] {
        let world = World::new();
        world.set_hidden(true);
        let session = world.signed_in();
        let first = world.access_tokens()[0].clone();
        let start = world.request_count();
        world.advance(wait);
        world.fault(Refresh, Fault::Held);
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
fn callers_sharing_a_refused_renewal_all_learn_the_session_ended() {
    let world = World::new();
    world.set_hidden(true);
    let session = world.signed_in();
    world.advance(TTL);
    world.fault(Refresh, Fault::HeldAnswer(400, r#"{"error":"invalid_grant"}"#));
    let callers: Vec<_> = (0..3)
        .map(|_| {
            let session = session.clone();
            world.spawn(async move { session.access_token().await })
        })
        .collect();
    world.settle();
    assert!(callers.iter().all(|c| c.take().is_none()), "all three wait for the one renewal");
    world.release();
    for caller in &callers {
        assert_eq!(caller.take(), Some(Err(AuthError::SessionExpired)));
    }
    let ended = world.states().iter().filter(|s| **s == AuthState::Failed(AuthError::SessionExpired)).count();
    assert_eq!(ended, 1, "one change of state for three callers: {:?}", world.states());
}

#[test]
fn renewal_failures() {
    struct Case {
        name: &'static str,
        faults: Vec<(Endpoint, Fault)>,
        sub: Option<&'static str>,
        /// Seconds the failure takes to show.
        takes: u64,
        /// What the caller whose token expired gets.
        answer: fn(&Result<String, AuthError>) -> bool,
        /// Whether the person stays signed in (a passing fault).
        stays: bool,
        /// The refresh token a refused answer carried, which the session must revoke.
        revokes: Option<&'static str>,
    }
    let ended = |r: &Result<String, AuthError>| *r == Err(AuthError::SessionExpired);
    let cases = [
        Case {
            name: "refused: invalid_grant",
            faults: vec![(Refresh, Fault::Answer(400, r#"{"error":"invalid_grant"}"#))],
            sub: None,
            takes: 0,
            answer: ended,
            stays: false,
            revokes: None,
        },
        Case {
            name: "refused with 401 invalid_client",
            faults: vec![(Refresh, Fault::Answer(401, r#"{"error":"invalid_client"}"#))],
            sub: None,
            takes: 0,
            answer: ended,
            stays: false,
            revokes: None,
        },
        Case {
            name: "refused with a bare 401, no OAuth error",
            faults: vec![(Refresh, Fault::Answer(401, ""))],
            sub: None,
            takes: 0,
            answer: ended,
            stays: false,
            revokes: None,
        },
        Case {
            name: "a 403 page from a firewall in front of the provider",
            faults: vec![(Refresh, Fault::Answer(403, "<h1>Forbidden</h1>"))],
            sub: None,
            takes: 0,
            answer: |r| matches!(r, Err(AuthError::TokenRejected { status: 403, error: None, .. })),
            stays: true,
            revokes: None,
        },
        Case {
            name: "refused with 403 and a code of the provider's own",
            faults: vec![(Refresh, Fault::Answer(403, r#"{"error":"refresh_token_expired","error_description":7}"#))],
            sub: None,
            takes: 0,
            answer: ended,
            stays: false,
            revokes: None,
        },
        Case {
            name: "429 without an OAuth error: later",
            faults: vec![(Refresh, Fault::Answer(429, ""))],
            sub: None,
            takes: 0,
            answer: |r| matches!(r, Err(AuthError::TokenRejected { status: 429, .. })),
            stays: true,
            revokes: None,
        },
        Case {
            name: "a 500 that is not JSON",
            faults: vec![(Refresh, Fault::Answer(500, "<h1>Internal Server Error</h1>"))],
            sub: None,
            takes: 0,
            answer: |r| matches!(r, Err(AuthError::TokenRejected { status: 500, .. })),
            stays: true,
            revokes: None,
        },
        Case {
            name: "503 temporarily_unavailable",
            faults: vec![(Refresh, Fault::Answer(503, r#"{"error":"temporarily_unavailable"}"#))],
            sub: None,
            takes: 0,
            answer: |r| matches!(r, Err(AuthError::TokenRejected { status: 503, .. })),
            stays: true,
            revokes: None,
        },
        Case {
            name: "network down",
            faults: vec![(Refresh, Fault::NetworkDown)],
            sub: None,
            takes: 0,
            answer: |r| matches!(r, Err(AuthError::Network(_))),
            stays: true,
            revokes: None,
        },
        Case {
            name: "no answer: a time-out after the platform's 15 s",
            faults: vec![(Refresh, Fault::NoAnswer)],
            sub: None,
            takes: 15,
            answer: |r| *r == Err(AuthError::Timeout),
            stays: true,
            revokes: None,
        },
        Case {
            name: "the keys do not load: the renewed tokens are kept",
            faults: vec![(Keys, Fault::Answer(404, "{}"))],
            sub: None,
            takes: 0,
            answer: |r| *r == Ok("at-3".into()),
            stays: true,
            revokes: None,
        },
        Case {
            name: "keys without the ID token's key: its signature cannot be checked",
            faults: vec![(Keys, Fault::Answer(200, r#"{"keys":[]}"#))],
            sub: None,
            takes: 0,
            answer: ended,
            stays: false,
            revokes: Some("rt-3"),
        },
        Case {
            name: "an ID token for another person",
            faults: vec![],
            sub: Some("mallory"),
            takes: 0,
            answer: ended,
            stays: false,
            revokes: Some("rt-3"),
        },
        Case {
            name: "a 200 without an access token, with a refresh token",
            faults: vec![(Refresh, Fault::Answer(200, r#"{"token_type":"Bearer","refresh_token":"rt-stray"}"#))],
            sub: None,
            takes: 0,
            answer: ended,
            stays: false,
            revokes: Some("rt-stray"),
        },
    ];
    for case in cases {
        let world = World::new();
        world.set_hidden(true);
        let session = world.signed_in();
        let start = world.request_count();
        world.advance(TTL);
        for (endpoint, fault) in case.faults {
            world.fault(endpoint, fault);
        }
        if let Some(sub) = case.sub {
            world.set_sub(sub);
        }
        let caller = {
            let session = session.clone();
            world.spawn(async move { session.access_token().await })
        };
        world.settle();
        world.advance(case.takes);
        let answer = caller.take().unwrap_or_else(|| panic!("{}: no answer", case.name));
        assert!((case.answer)(&answer), "{}: {answer:?}", case.name);
        assert_eq!(world.endpoints(start).first(), Some(&Refresh), "{}", case.name);
        let signed_in = matches!(session.state(), AuthState::SignedIn(_));
        assert_eq!(signed_in, case.stays, "{}: {:?}", case.name, session.state());
        if !case.stays {
            assert_eq!(session.state(), AuthState::Failed(AuthError::SessionExpired), "{}", case.name);
            assert_eq!(access_token(&world, &session), Err(AuthError::NotSignedIn), "{}: tokens gone", case.name);
            if let Some(token) = case.revokes {
                let revoked = world.request_to(Revocation, start, 0).form.get("token").cloned();
                assert_eq!(revoked.as_deref(), Some(token), "{}: the answer's refresh token revoked", case.name);
                if token == "rt-3" {
                    assert_eq!(world.live_refresh_token(), None, "{}: nothing left alive at the provider", case.name);
                }
            } else {
                assert!(!world.endpoints(start).contains(&Revocation), "{}", case.name);
            }
            continue;
        }
        if answer.is_ok() {
            assert_eq!(world.endpoints(start), [Refresh, Keys], "{}", case.name);
            let presented = world.live_refresh_token();
            world.advance(TTL);
            assert_eq!(access_token(&world, &session), Ok("at-4".into()), "{}", case.name);
            assert_eq!(world.request_to(Refresh, start, 1).form.get("refresh_token"), presented.as_ref());
            assert_eq!(
                id_token_hint_at_sign_out(&world, &session),
                world.id_tokens()[2],
                "{}: the next renewal's ID token",
                case.name
            );
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
fn the_keys_failing_during_a_renewal_keep_the_person_the_verified_id_token_named() {
    let world = World::new();
    world.set_hidden(true);
    let session = world.signed_in();
    world.advance(TTL);
    world.fault(Keys, Fault::Answer(404, "{}"));
    assert!(access_token(&world, &session).is_ok());
    assert_eq!(
        id_token_hint_at_sign_out(&world, &session),
        world.id_tokens()[0],
        "the unverified new ID token was dropped, the first kept"
    );
}

#[test]
fn a_renewal_whose_answer_was_lost_after_rotation_ends_the_session_at_the_next_try() {
    // The provider rotated, the answer never came: the session still holds the spent
    // refresh token, and presenting it is what RFC 9700 §4.14.2 calls theft.
    let world = World::new();
    world.set_hidden(true);
    let session = world.signed_in();
    world.advance(TTL);
    world.fault(Refresh, Fault::AnswerLost);
    assert!(matches!(access_token(&world, &session), Err(AuthError::Network(_))));
    assert!(matches!(session.state(), AuthState::SignedIn(_)), "a passing fault, as far as the tab can tell");
    world.advance(10);
    assert_eq!(access_token(&world, &session), Err(AuthError::SessionExpired));
    assert_eq!(session.state(), AuthState::Failed(AuthError::SessionExpired));
}

#[test]
fn clock_skew_within_a_minute_is_tolerated_beyond_it_not() {
    // A provider an hour behind issues ID tokens that expired before they arrive.
    for (ahead, stays) in [(59, true), (61, false), (-59, true), (-3600, false)] {
        let world = World::new();
        world.set_hidden(true);
        let session = world.signed_in();
        world.advance(TTL);
        world.set_provider_clock_ahead(ahead);
        let answer = access_token(&world, &session);
        // An ID token issued "in the future" by more than the allowed skew is refused
        // (OIDC Core §3.1.3.7 step 10); its lifetime is `expires_in`, relative, so the
        // renewal time does not depend on the provider's clock.
        assert_eq!(answer.is_ok(), stays, "provider {ahead} s ahead: {answer:?}");
        if stays {
            world.advance(TTL - 31);
            let before = world.request_count();
            assert!(access_token(&world, &session).is_ok());
            assert_eq!(world.endpoints(before), [], "provider {ahead} s ahead: not due before 570 s");
        }
    }
}

#[test]
fn sign_out_during_a_renewal_waits_for_it_then_revokes_both_refresh_tokens() {
    let world = World::new();
    world.set_hidden(true);
    let session = world.signed_in();
    let id_token = world.id_tokens()[0].clone();
    let old_refresh = world.live_refresh_token().expect("a refresh token");
    world.advance(TTL - 30);
    world.fault(Refresh, Fault::Held);
    assert!(access_token(&world, &session).is_ok(), "a renewal starts beside the caller");
    let rotated = world.live_refresh_token().expect("the provider rotated on receipt");
    let start = world.request_count();

    session.sign_out();
    world.settle();
    assert_eq!(session.state(), AuthState::SigningOut);
    assert_eq!(world.endpoints(start), [Revocation], "the refresh token in hand is revoked at once, and the tab waits");
    assert_eq!(world.request_to(Revocation, start, 0).form.get("token"), Some(&old_refresh));

    world.release();
    assert_eq!(world.endpoints(start), [Revocation, Keys, Revocation, Logout], "the answer checked, then revoked");
    assert_eq!(world.request_to(Revocation, start, 1).form.get("token"), Some(&rotated), "the renewal's token too");
    assert_eq!(world.revoked(), [rotated], "the live one ended the grant at the provider");
    assert_eq!(world.live_refresh_token(), None);
    assert_eq!(world.request_to(Logout, start, 0).form.get("id_token_hint"), Some(&id_token));
    assert_eq!(world.states().last(), Some(&AuthState::SigningOut), "nothing shown after signing out");
    assert_eq!(access_token(&world, &session), Err(AuthError::NotSignedIn));
}

#[test]
fn sign_out_during_a_renewal_that_fails_still_signs_out() {
    let world = World::new();
    world.set_hidden(true);
    let session = world.signed_in();
    world.advance(TTL - 30);
    world.fault(Refresh, Fault::HeldAnswer(400, r#"{"error":"invalid_grant"}"#));
    let _ = access_token(&world, &session);
    let start = world.request_count();
    session.sign_out();
    world.settle();
    world.release();
    assert_eq!(session.state(), AuthState::SigningOut, "not 'your session has ended'");
    assert_eq!(world.endpoints(start).last(), Some(&Logout));
}

#[test]
fn sign_out_leaves_after_5_s_when_the_renewal_never_answers() {
    let world = World::new();
    world.set_hidden(true);
    let session = world.signed_in();
    world.advance(TTL - 30);
    world.fault(Refresh, Fault::Held);
    let _ = access_token(&world, &session);
    let start = world.request_count();
    session.sign_out();
    world.advance_ms(4_999);
    assert_eq!(world.endpoints(start), [Revocation], "still waiting at 4.999 s");
    world.advance_ms(1);
    assert_eq!(world.endpoints(start), [Revocation, Logout], "left for the provider at 5 s");
}

#[test]
fn sign_out_without_a_provider_logout_lands_signed_out_at_home() {
    let world = World::new();
    world.without_end_session();
    let session = world.signed_in();
    let refresh = world.live_refresh_token().expect("a refresh token");
    let start = world.request_count();
    session.sign_out();
    world.settle();
    assert_eq!(session.state(), AuthState::SignedOut);
    assert!(session.signed_out_by_user());
    assert_eq!(world.page(), "/");
    assert_eq!(world.endpoints(start), [Revocation], "the tab stayed");
    assert_eq!(world.revoked(), [refresh]);
    let reload = {
        let session = session.clone();
        world.run(async move { session.reload_profile().await }).expect("answered")
    };
    assert_eq!(reload, Err(AuthError::NotSignedIn));
    session.sign_out();
    world.settle();
    assert_eq!(world.endpoints(start), [Revocation], "a second sign-out has nothing to revoke, nothing to ask");
}

#[test]
fn the_callback_narrows_the_page_to_the_provider_and_the_apis_before_asking_for_tokens() {
    let world = World::new();
    world.configure(r#","api_origins":["https://api.example.com"]"#);
    let callback = world.callback_of_a_sign_in();
    assert_eq!(world.policies(), [], "no page narrowed itself before a token was to be had");
    let before = world.request_count();
    world.open(&callback);
    assert_eq!(world.endpoints(before)[0], CodeExchange);
    assert_eq!(
        world.policies(),
        [(before, format!("connect-src 'self' {ISSUER} https://api.example.com; form-action 'self' {ISSUER}"))],
        "once, before the code exchange"
    );
    world.open("/profile");
    assert_eq!(world.policies().len(), 1, "a page without a callback leaves its policy as it is");
}

#[test]
fn a_page_that_cannot_narrow_its_policy_gets_no_token() {
    let world = World::new();
    let callback = world.callback_of_a_sign_in();
    world.refuse_policies();
    let before = world.request_count();
    let page = world.open(&callback);
    assert!(!world.endpoints(before).contains(&CodeExchange), "the code was not sent");
    assert!(
        matches!(page.state(), AuthState::Failed(AuthError::Config(ref detail)) if detail.contains("Content-Security-Policy")),
        "{:?}",
        page.state()
    );
}

/// RFC 9126: the provider advertises a pushed authorization request endpoint, so the
/// request goes there first (a POST with the client's id, no secret), and the browser
/// carries only `client_id` and the `request_uri`; the world's provider checks both, and
/// uses the pushed request once. A silent restore goes the same way.
#[test]
fn with_par_the_request_is_pushed_and_the_browser_carries_only_its_reference() {
    let world = World::new();
    world.offer_par(false);
    let home = world.open("/");
    let before = world.request_count();
    home.sign_in("/orders");
    world.settle();
    assert_eq!(world.endpoints(before), [Par, Authorize]);
    let pushed = world.request_to(Par, before, 0);
    assert_eq!(pushed.url, format!("{ISSUER}/par"));
    for name in ["response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge"] {
        assert!(pushed.form.contains_key(name), "{name} not pushed: {:?}", pushed.form.keys());
    }
    assert!(!pushed.form.contains_key("code_verifier") && !pushed.form.contains_key("client_secret"));
    let session = world.open(&world.approve());
    assert!(matches!(session.state(), AuthState::SignedIn(_)), "{:?}", session.state());
    assert_eq!(world.page(), "/orders");
    // A reload: the silent sign-in is pushed too, with prompt=none in the pushed request.
    let start = world.request_count();
    let reload = world.open("/orders");
    assert_eq!(reload.state(), AuthState::Restoring);
    assert_eq!(world.endpoints(start), [Par, Authorize]);
    assert_eq!(world.request_to(Par, start, 0).form.get("prompt").map(String::as_str), Some("none"));
    let restored = world.open(&world.approve());
    assert!(matches!(restored.state(), AuthState::SignedIn(_)), "{:?}", restored.state());
}

/// A silent restore whose push the provider refuses (RFC 9126 §2.3) gets its verdict before
/// any redirect: as a refusal on the callback would, it ends this browser's restores (the
/// marker goes) after one push; a push that is not answered is tried once per page.
#[test]
fn a_restore_whose_push_fails_is_tried_once_and_a_refusal_ends_the_restores() {
    let world = World::new();
    world.offer_par(false);
    let _ = world.signed_in();
    world.fault(Par, Fault::NetworkDown);
    let start = world.request_count();
    let reload = world.open("/");
    assert_eq!(reload.state(), AuthState::SignedOut);
    let pushes = |from| world.endpoints(from).into_iter().filter(|endpoint| *endpoint == Par).count();
    assert_eq!(pushes(start), 1, "one push in this page, not one per config copy");
    assert!(!world.endpoints(start).contains(&Authorize), "the tab stayed");
    assert!(world.marker().is_some(), "a passing fault: a later page may try again");
    world.fault(Par, Fault::Answer(400, r#"{"error":"unauthorized_client"}"#));
    let start = world.request_count();
    let again = world.open("/");
    assert_eq!(again.state(), AuthState::SignedOut, "quietly");
    assert_eq!(pushes(start), 1);
    assert_eq!(world.marker(), None, "a verdict: this browser stops trying");
    let start = world.request_count();
    world.open("/");
    world.new_tab();
    world.open("/");
    assert_eq!(pushes(start), 0, "no page, in no tab, pushes again");
    assert!(!world.tab().storage.borrow().keys().any(|key| key.contains("pending:")), "nothing pending");
}

#[test]
fn a_provider_that_requires_par_is_refused_when_the_config_turns_it_off() {
    let world = World::new();
    world.offer_par(true);
    world.configure(r#","par":false"#);
    let home = world.open("/");
    let before = world.request_count();
    home.sign_in("/");
    world.settle();
    assert!(
        matches!(home.state(), AuthState::Failed(AuthError::Config(ref detail)) if detail.contains("\"par\": false")),
        "{:?}",
        home.state()
    );
    assert_eq!(world.endpoints(before), [], "nothing sent, the tab stayed");
    assert!(!world.tab().storage.borrow().keys().any(|key| key.contains("pending:")), "no sign-in left pending");
}

#[test]
fn a_refused_or_failed_push_shows_why_and_leaves_no_sign_in_pending() {
    for (fault, expected) in [
        (Fault::Answer(400, r#"{"error":"invalid_scope","error_description":"no such scope"}"#), "invalid_scope"),
        (Fault::Answer(503, "<h1>Unavailable</h1>"), "token_rejected"),
        (Fault::NetworkDown, "network"),
    ] {
        let world = World::new();
        world.offer_par(false);
        let home = world.open("/");
        world.fault(Par, fault);
        let before = world.request_count();
        home.sign_in("/");
        world.settle();
        let shown = match home.state() {
            AuthState::Failed(AuthError::Provider { error, .. }) => error,
            AuthState::Failed(other) => other.code().to_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(shown, expected);
        assert_eq!(world.endpoints(before), [Par], "{expected}: the tab stayed");
        assert!(
            !world.tab().storage.borrow().keys().any(|key| key.contains("pending:")),
            "{expected}: nothing pending"
        );
    }
}

#[test]
fn a_narrower_grant_keeps_the_person_signed_in_and_says_what_was_withheld() {
    let world = World::new();
    world.grant_scope("openid profile");
    let session = world.signed_in();
    assert!(matches!(session.state(), AuthState::SignedIn(_)), "{:?}", session.state());
    assert_eq!(session.withheld_scopes(), ["email"], "the config asks for openid profile email");
    assert!(access_token(&world, &session).is_ok(), "the app works with what it got");
    let before = world.request_count();
    world.advance(TTL - 10);
    assert!(access_token(&world, &session).is_ok());
    assert!(world.endpoints(before).contains(&Refresh), "renewed meanwhile");
    assert_eq!(session.withheld_scopes(), ["email"], "a refresh that does not restate the scope keeps it");
    session.sign_out();
    world.settle();
    assert_eq!(session.withheld_scopes(), Vec::<String>::new(), "nobody signed in, nothing withheld");
}

/// Signs in, signs out at the provider, and answers the `state` the logout request carried.
fn signed_out_at_the_provider(world: &std::rc::Rc<World>) -> String {
    let session = world.signed_in();
    let from = world.request_count();
    session.sign_out();
    world.settle();
    let logout = world.request_to(Logout, from, 0);
    let state = logout.form.get("state").cloned().expect("the logout request carries a state");
    assert!(state.len() >= 43, "as random as a sign-in's state: {state:?}");
    state
}

#[test]
fn each_sign_out_sends_a_state_of_its_own() {
    let world = World::new();
    let first = signed_out_at_the_provider(&world);
    let second = signed_out_at_the_provider(&world);
    assert_ne!(first, second);
    let authorize = world.request_to(Authorize, 0, 0);
    assert_ne!(authorize.form.get("state"), Some(&first), "not the sign-in's state either");
}

#[test]
fn a_sign_out_state_never_brought_back_is_gone_by_the_next_page() {
    let world = World::new();
    let _ = signed_out_at_the_provider(&world);
    // The person never comes back from the provider's logout page; later, in this tab, a
    // new sign-in, and then the home page with a query of the app's own.
    let callback = world.callback_of_a_sign_in();
    world.open(&callback);
    assert!(!world.tab().storage.borrow().keys().any(|key| key.contains("sign-out")), "taken by the callback page");
    world.open("/?tab=2");
    assert_eq!(world.page(), "/?tab=2", "the app's own query is left alone");
}

#[test]
fn the_return_from_the_providers_logout_is_checked_and_lands_on_a_clean_signed_out_home() {
    let world = World::new();
    let state = signed_out_at_the_provider(&world);
    let home = world.open(&format!("/?state={state}"));
    assert_eq!(home.state(), AuthState::SignedOut);
    assert!(home.signed_out_by_user(), "the page says the person signed out");
    assert_eq!(world.page(), "/", "the state left the address bar");
    assert!(
        !world.tab().storage.borrow().keys().any(|key| key.contains("sign-out")),
        "the state was used once and is gone"
    );
    let again = world.open(&format!("/?state={state}"));
    assert!(!again.signed_out_by_user(), "a replayed return proves nothing");
    assert_eq!(world.page(), format!("/?state={state}"), "and a page that is not a return is left alone");
}

#[test]
fn a_return_from_logout_with_a_wrong_or_missing_state_is_signed_out_and_claims_nothing() {
    for (back, left_at) in
        [("/?state=forged", "/"), ("/", "/"), ("/?lang=en", "/"), ("/profile?state=x", "/profile?state=x")]
    {
        let world = World::new();
        let state = signed_out_at_the_provider(&world);
        let home = world.open(back);
        assert_eq!(home.state(), AuthState::SignedOut, "{back}");
        assert!(!home.signed_out_by_user(), "{back}: no claim the person signed out");
        assert_eq!(world.page(), left_at, "{back}");
        assert!(!world.tab().storage.borrow().values().any(|value| value.contains(&state)), "{back}: state gone");
    }
}

#[test]
fn the_landing_is_the_configured_post_logout_page_with_its_own_query() {
    let world = World::new();
    world.configure(&format!(r#","post_logout_redirect_uri":"{ORIGIN}/bye?from=app""#));
    let state = signed_out_at_the_provider(&world);
    let bye = world.open(&format!("/bye?from=app&state={state}"));
    assert!(bye.signed_out_by_user());
    assert_eq!(world.page(), "/bye?from=app");
}

#[test]
fn an_expired_token_without_a_refresh_token_ends_the_session() {
    let world = World::new();
    world.set_hidden(true);
    world.without_refresh_tokens();
    let session = world.signed_in();
    let start = world.request_count();
    world.advance(TTL - 30);
    assert_eq!(access_token(&world, &session), Ok(world.access_tokens()[0].clone()), "due, but nothing to renew with");
    world.advance(30);
    assert_eq!(access_token(&world, &session), Err(AuthError::SessionExpired));
    assert_eq!(session.state(), AuthState::Failed(AuthError::SessionExpired));
    assert_eq!(world.endpoints(start), [], "nothing asked of the provider");
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
    world.set_hidden(true);
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
    assert_eq!(world.request_to(UserInfo, start, 0).bearer.as_ref(), Some(&renewed), "with the renewed token");
}

#[test]
fn expiry_edges() {
    // Tokens of 10 s: due half-way (5 s), expired at 10 s.
    let world = World::new();
    world.set_hidden(true);
    world.set_ttl(10);
    let session = world.signed_in();
    let first = world.access_tokens()[0].clone();
    let start = world.request_count();
    world.advance(4);
    assert_eq!(access_token(&world, &session), Ok(first.clone()));
    assert_eq!(world.endpoints(start), [], "not due at 4 s");
    world.advance(1);
    world.fault(Refresh, Fault::Held);
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
}

#[test]
fn a_session_that_is_not_signed_in_has_no_token() {
    let world = World::new();
    let home = world.open("/");
    assert_eq!(access_token(&world, &home), Err(AuthError::NotSignedIn));
    assert_eq!(world.endpoints(0), [Config, Discovery], "and asks nobody");
}

/// Where the silent sign-in sent the tab, as the provider saw it.
fn last_authorization(world: &World) -> std::collections::BTreeMap<String, String> {
    world.request_to(Authorize, 0, world.endpoints(0).iter().filter(|e| **e == Authorize).count() - 1).form
}

/// Opens `url` in the current tab; whether it went to the authorization endpoint (tried a
/// silent restore).
fn opening_tries_a_restore(world: &std::rc::Rc<World>, url: &str) -> bool {
    let before = world.request_count();
    world.open(url);
    world.endpoints(before).contains(&Authorize)
}

#[test]
fn a_reload_restores_the_session_silently_and_comes_back_to_the_same_place() {
    let world = World::new();
    world.signed_in();
    let marker = format!(
        r#"{{"issuer":"{ISSUER}","client_id":"spa","expires_at":{}}}"#,
        world.now() + leptos_oidc_auth::session::MARKER_LIFETIME_SECS
    );
    assert_eq!(world.marker(), Some(marker), "only this, and nothing about the person");

    let before = world.request_count();
    let page = world.open("/orders?page=2#top");
    assert_eq!(world.states(), [AuthState::Restoring], "no flash of the signed-out page");
    assert_eq!(page.state(), AuthState::Restoring);
    assert_eq!(world.endpoints(before), [Authorize], "config and metadata from the tab's own copies");
    assert_eq!(last_authorization(&world).get("prompt").map(String::as_str), Some("none"));

    let before = world.request_count();
    let callback = world.approve();
    let restored = world.open(&callback);
    assert!(matches!(restored.state(), AuthState::SignedIn(_)), "{:?}", restored.state());
    assert!(world.endpoints(before).contains(&Config), "config.json read after the restore, for the next one");
    assert_eq!(world.page(), "/orders?page=2#top", "the exact page, query and fragment");
    assert!(
        !world.tab().storage.borrow().contains_key("leptos-oidc:restore-tried"),
        "a later reload may restore again"
    );

    // A new tab: its own sessionStorage, the shared marker.
    world.new_tab();
    let before = world.request_count();
    let tab = world.open("/");
    assert_eq!(tab.state(), AuthState::Restoring);
    assert_eq!(world.endpoints(before), [Config, Discovery, Authorize]);
}

#[test]
fn a_restore_made_with_the_tabs_copy_is_not_taken_up_if_config_json_changed_meanwhile() {
    // The tab's copy sends the redirect at once; config.json, read beside the token request,
    // has the last word: another client, or restoring turned off, and the session it brought
    // back is revoked, not taken up.
    for change in ["client", "redirect URI", "restore off"] {
        let world = World::new();
        world.signed_in();
        match change {
            "client" => world.configure_client_id("another-spa"),
            "redirect URI" => world.configure(&format!(r#","redirect_uri":"{ORIGIN}/signed-in""#)),
            _ => world.configure(r#","restore_session":false"#),
        }
        let before = world.request_count();
        world.open("/orders");
        assert_eq!(world.endpoints(before), [Authorize], "{change}: the tab's copy, no wait");
        let back = world.open(&world.approve());
        assert_eq!(back.state(), AuthState::SignedOut, "{change}");
        assert_eq!(world.page(), "/orders", "{change}");
        assert!(world.endpoints(before).contains(&Config), "{change}: config.json was read");
        assert_eq!(world.revoked().len(), 1, "{change}: the refresh token it brought is revoked");
        assert_eq!(world.marker(), None, "{change}");
        assert!(!opening_tries_a_restore(&world, "/"), "{change}: and no second try");
    }
}

#[test]
fn a_restore_whose_config_json_cannot_be_read_on_return_keeps_the_copy_that_worked() {
    let world = World::new();
    world.signed_in();
    world.open("/orders");
    world.fault(Config, Fault::Answer(500, "{}"));
    let restored = world.open(&world.approve());
    assert!(matches!(restored.state(), AuthState::SignedIn(_)), "{:?}", restored.state());
    assert!(world.marker().is_some());
    // The session goes on with the copy: its renewal works.
    assert_renews(&world, &restored, "");
}

#[test]
fn a_restore_with_the_tabs_copy_takes_up_the_current_config() {
    let world = World::new();
    world.signed_in();
    world.configure(&format!(r#","app":{{"orders":"{}/orders"}}"#, world::API));
    world.open("/");
    let restored = world.open(&world.approve());
    assert!(matches!(restored.state(), AuthState::SignedIn(_)));
    let setting = {
        let restored = restored.clone();
        world.run(async move { restored.app_setting("orders").await }).expect("answered")
    };
    assert_eq!(setting, Some(format!("{}/orders", world::API)), "config.json's, not the copy's");
}

#[test]
fn a_sign_ins_callback_reads_config_json_beside_the_exchange_and_takes_up_its_settings() {
    // index.html preloads config.json on every page: the callback uses its answer (the
    // exchange itself goes by the tab's copy, as the authorization request did).
    let world = World::new();
    let callback = world.callback_of_a_sign_in();
    world.configure(&format!(r#","app":{{"orders":"{}/orders"}}"#, world::API));
    world.fault(CodeExchange, Fault::Held);
    let before = world.request_count();
    let session = world.open(&callback);
    assert_eq!(world.endpoints(before), [CodeExchange, Keys, Config], "config.json while the exchange is out");
    world.release();
    assert!(matches!(session.state(), AuthState::SignedIn(_)), "{:?}", session.state());
    let setting = {
        let session = session.clone();
        world.run(async move { session.app_setting("orders").await }).expect("answered")
    };
    assert_eq!(setting, Some(format!("{}/orders", world::API)), "config.json's, not the copy's");
}

#[test]
fn a_sign_in_the_person_just_made_is_kept_if_config_json_names_another_client_meanwhile() {
    // Unlike a restore (which can quietly not happen), the person asked for this one; its
    // tokens are good for the client they were made for, and the copy they were made with
    // serves the page. The next reload goes by config.json (the test after this one).
    for change in ["client", "redirect URI"] {
        let world = World::new();
        let callback = world.callback_of_a_sign_in();
        let app = format!(r#","app":{{"orders":"{}/orders"}}"#, world::API);
        match change {
            "client" => {
                world.configure_client_id("another-spa");
                world.configure(&app);
            }
            _ => world.configure(&format!(r#","redirect_uri":"{ORIGIN}/signed-in"{app}"#)),
        }
        let before = world.request_count();
        let session = world.open(&callback);
        assert!(matches!(session.state(), AuthState::SignedIn(_)), "{change}: {:?}", session.state());
        assert!(world.endpoints(before).contains(&Config), "{change}: config.json was read");
        let exchange = world.request_to(CodeExchange, before, 0).form;
        assert_eq!(exchange["client_id"], world::CLIENT_ID, "{change}");
        assert_eq!(exchange["redirect_uri"], format!("{ORIGIN}/callback"), "{change}");
        assert_eq!(world.revoked(), Vec::<String>::new(), "{change}");
        assert!(world.marker().is_some_and(|m| m.contains(r#""client_id":"spa""#)), "{change}: {:?}", world.marker());
        let setting = {
            let session = session.clone();
            world.run(async move { session.app_setting("orders").await }).expect("answered")
        };
        assert_eq!(setting, None, "{change}: the copy's settings, not config.json's");
        // Renewals go to the client the tokens were made for (the provider takes no other).
        assert_renews(&world, &session, change);
    }
}

#[test]
fn a_new_sign_in_from_a_page_that_kept_an_older_config_exchanges_with_that_config() {
    // The page kept the copy (another client in config.json); config.json's read put the
    // new one into the tab's storage. Signed in again from this page, the callback must
    // exchange with the config the authorization request used.
    let world = World::new();
    let callback = world.callback_of_a_sign_in();
    world.configure_client_id("another-spa");
    let session = world.open(&callback);
    end_with_a_refused_renewal(&world, &session);
    session.sign_in("/");
    world.settle();
    let before = world.request_count();
    let back = world.open(&world.approve());
    assert!(matches!(back.state(), AuthState::SignedIn(_)), "{:?}", back.state());
    assert_eq!(world.request_to(CodeExchange, before, 0).form["client_id"], world::CLIENT_ID);
}

#[test]
fn a_sign_ins_callback_keeps_the_copy_when_config_json_names_other_api_origins() {
    // The page's policy, added before the exchange, allows the copy's API origins only.
    let world = World::new();
    let callback = world.callback_of_a_sign_in();
    world.configure(r#","api_origins":["https://api2.example"],"app":{"orders":"https://api2.example/orders"}"#);
    let session = world.open(&callback);
    assert!(matches!(session.state(), AuthState::SignedIn(_)), "{:?}", session.state());
    let setting = {
        let session = session.clone();
        world.run(async move { session.app_setting("orders").await }).expect("answered")
    };
    assert_eq!(setting, None, "the copy's settings");
}

#[test]
fn a_failed_callback_whose_config_json_cannot_be_read_tries_again_with_the_copy() {
    let world = World::new();
    let callback = world.callback_of_a_sign_in();
    world.fault(Config, Fault::Answer(500, "{}"));
    world.fault(CodeExchange, Fault::Answer(400, r#"{"error":"invalid_grant"}"#));
    let session = world.open(&callback);
    assert!(matches!(session.state(), AuthState::Failed(AuthError::TokenRejected { .. })), "{:?}", session.state());
    let before = world.request_count();
    session.sign_in("/");
    world.settle();
    assert_eq!(session.state(), AuthState::Redirecting);
    assert!(!world.endpoints(before).contains(&Config), "{:?}", world.endpoints(before));
}

#[test]
fn a_failed_callback_under_a_since_changed_client_tries_again_with_the_copy() {
    // What serves the page is settled whatever the outcome: once the callback has narrowed
    // the page's policy, it allows only the copy's provider.
    let world = World::new();
    let callback = world.callback_of_a_sign_in();
    world.configure_client_id("another-spa");
    world.fault(CodeExchange, Fault::Answer(400, r#"{"error":"invalid_grant"}"#));
    let session = world.open(&callback);
    assert!(matches!(session.state(), AuthState::Failed(AuthError::TokenRejected { .. })), "{:?}", session.state());
    session.sign_in("/");
    world.settle();
    assert_eq!(session.state(), AuthState::Redirecting);
    assert_eq!(last_authorization(&world).get("client_id").map(String::as_str), Some(world::CLIENT_ID));
}

#[test]
fn a_page_that_kept_an_older_config_leaves_another_tabs_newer_marker_alone() {
    let world = World::new();
    let callback = world.callback_of_a_sign_in();
    world.configure_client_id("another-spa");
    let session = world.open(&callback);
    end_with_a_refused_renewal(&world, &session);
    // Another tab signs in with config.json's client; this one is shown again.
    let newer = format!(r#"{{"issuer":"{ISSUER}","client_id":"another-spa","expires_at":{}}}"#, world.now() + 3600);
    world.shared_storage.borrow_mut().insert("leptos-oidc:session".into(), newer.clone());
    world.set_hidden(false);
    let before = world.request_count();
    session.page_visible();
    world.settle();
    assert_eq!(world.marker(), Some(newer), "the other tab's marker is kept, for config.json to judge");
    assert!(!world.endpoints(before).contains(&Authorize));
    assert_eq!(session.state(), AuthState::SignedOut);
}

#[test]
fn the_reload_after_a_sign_in_under_a_since_changed_client_goes_by_config_json() {
    let world = World::new();
    let callback = world.callback_of_a_sign_in();
    world.configure_client_id("another-spa");
    world.open(&callback);
    let before = world.request_count();
    let reloaded = world.open("/");
    assert_eq!(world.states(), [AuthState::Restoring, AuthState::SignedOut]);
    assert_eq!(reloaded.state(), AuthState::SignedOut);
    assert!(!world.endpoints(before).contains(&Authorize), "no restore for a client config.json no longer names");
    assert_eq!(world.marker(), None);
}

#[test]
fn a_sign_in_whose_config_json_cannot_be_read_on_return_keeps_the_copy() {
    let world = World::new();
    let callback = world.callback_of_a_sign_in();
    world.fault(Config, Fault::Answer(500, "{}"));
    let session = world.open(&callback);
    assert!(matches!(session.state(), AuthState::SignedIn(_)), "{:?}", session.state());
    assert!(world.marker().is_some());
    assert_renews(&world, &session, "");
}

#[test]
fn a_sign_ins_callback_waits_for_config_json_and_reads_it_once() {
    // The page is signed in once config.json has answered (or failed): it is preloaded, so
    // it is in long before the exchange's answer, but a slow one holds the page. A setting
    // asked for meanwhile waits for that same read.
    let world = World::new();
    let callback = world.callback_of_a_sign_in();
    world.configure(&format!(r#","app":{{"orders":"{}/orders"}}"#, world::API));
    world.fault(Config, Fault::Held);
    let before = world.request_count();
    let session = world.open(&callback);
    assert_eq!(session.state(), AuthState::Exchanging, "the exchange answered; config.json has not");
    let setting = {
        let session = session.clone();
        world.spawn(async move { session.app_setting("orders").await })
    };
    world.release();
    assert!(matches!(session.state(), AuthState::SignedIn(_)), "{:?}", session.state());
    assert_eq!(world.endpoints(before).iter().filter(|e| **e == Config).count(), 1);
    assert_eq!(setting.take(), Some(Some(format!("{}/orders", world::API))));
}

#[test]
fn a_marker_from_another_config_is_not_judged_by_the_tabs_copy() {
    // The app was redeployed for another client, and another tab signed in with it. This
    // tab's copy of the old config must not judge that marker (it would drop a good one):
    // config.json does, and the restore goes ahead.
    let world = World::new();
    world.signed_in();
    world.configure_client_id("another-spa");
    let newer = format!(r#"{{"issuer":"{ISSUER}","client_id":"another-spa","expires_at":{}}}"#, world.now() + 3600);
    world.shared_storage.borrow_mut().insert("leptos-oidc:session".into(), newer.clone());
    let before = world.request_count();
    let page = world.open("/");
    assert_eq!(page.state(), AuthState::Restoring);
    assert_eq!(world.endpoints(before), [Config, Authorize]);
    assert_eq!(last_authorization(&world).get("client_id").map(String::as_str), Some("another-spa"));
    assert_eq!(world.marker(), Some(newer), "the marker is kept");
}

#[test]
fn a_restore_the_provider_refuses_is_quiet_and_never_repeated() {
    // Anything else goes too: some providers answer `invalid_request` to a prompt=none they
    // will not serve, and a code whose exchange fails ends the same way.
    let errors = [
        "login_required",
        "interaction_required",
        "consent_required",
        "account_selection_required",
        "invalid_request",
        "exchange_fails",
    ];
    for error in errors {
        let world = World::new();
        world.signed_in();
        let marker = world.marker().expect("a marker");
        if error == "exchange_fails" {
            world.fault(CodeExchange, Fault::Answer(500, "oops"));
        } else if error == "login_required" {
            world.end_provider_session();
        } else {
            world.refuse_silent_sign_in(error);
        }
        world.open("/profile?tab=2");
        let callback = world.approve();
        assert_eq!(callback.contains("error="), error != "exchange_fails", "{error}: {callback}");
        let back = world.open(&callback);
        assert_eq!(back.state(), AuthState::SignedOut, "{error}: no red error");
        assert_eq!(world.states(), [AuthState::Exchanging, AuthState::SignedOut], "{error}");
        assert_eq!(world.page(), "/profile?tab=2", "{error}: back where the person was");
        assert_eq!(world.marker(), None, "{error}: the marker is gone");

        let before = world.request_count();
        let again = world.open("/profile?tab=2");
        assert_eq!(again.state(), AuthState::SignedOut, "{error}");
        assert!(!world.endpoints(before).contains(&Authorize), "{error}: no second silent attempt");
        // Not even if that marker reappears: once per tab and marker. (A new marker, which
        // only a sign-in that worked writes, may be tried: see the tab tests below.)
        world.shared_storage.borrow_mut().insert("leptos-oidc:session".into(), marker);
        assert!(!opening_tries_a_restore(&world, "/"), "{error}: still no second attempt");
    }
}

#[test]
fn a_restore_that_never_comes_back_stops_other_tabs_from_trying() {
    // A provider that ignores prompt=none shows its login page instead of answering; the
    // person goes Back. This browser's session cannot be restored silently, so no other tab
    // (nor a later reload) is sent to that login page again.
    let world = World::new();
    world.signed_in();
    world.open("/profile");
    assert_eq!(world.endpoints(world.request_count() - 1), [Authorize]);
    let back = world.go_back_to("/profile");
    assert_eq!(back.state(), AuthState::SignedOut);
    assert_eq!(world.marker(), None, "the marker is gone");
    world.new_tab();
    let before = world.request_count();
    let other = world.open("/");
    assert_eq!(other.state(), AuthState::SignedOut);
    assert!(!world.endpoints(before).contains(&Authorize), "a new tab does not try");
}

#[test]
fn a_reload_or_a_link_while_a_restore_is_on_its_way_keeps_the_marker() {
    let world = World::new();
    world.signed_in();
    let marker = world.marker();
    world.open("/profile"); // leaves for the provider...
    let again = world.open("/profile"); // ...and the person reloads before it answers
    assert_eq!(again.state(), AuthState::SignedOut, "this tab does not try twice");
    assert_eq!(world.marker(), marker, "no verdict on the restore: the marker stays");
    world.new_tab();
    assert_eq!(world.open("/").state(), AuthState::Restoring, "other tabs still restore");
}

#[test]
fn back_from_a_restore_leaves_a_newer_marker_from_another_tab_alone() {
    let world = World::new();
    world.signed_in();
    let page = world.open("/profile"); // leaves to restore with the marker of the time
    let tab_a = world.tab();
    world.new_tab();
    world.advance(1);
    world.signed_in(); // another tab signs in meanwhile: a newer marker
    let newer = world.marker();
    world.switch_to(&tab_a);
    page.page_shown(); // Back to the page that left, from the back-forward cache
    world.settle();
    assert_eq!(world.marker(), newer, "not the marker this tab left with");
}

#[test]
fn back_after_a_restore_that_came_back_drops_nothing() {
    // The restore's callback arrived (whatever its outcome), so a later Back to a page of
    // this tab is no verdict on it.
    let world = World::new();
    world.signed_in();
    world.open("/");
    let restored = world.open(&world.approve());
    assert!(matches!(restored.state(), AuthState::SignedIn(_)));
    let marker = world.marker();
    world.go_back_to("/");
    assert_eq!(world.marker(), marker);
}

#[test]
fn a_restore_that_could_not_start_is_not_counted() {
    // A new tab with discovery down: no redirect was made, so nothing was tried, nothing is
    // dropped, and the next load tries.
    let world = World::new();
    world.signed_in();
    let marker = world.marker();
    world.new_tab();
    world.fault(Discovery, Fault::NetworkDown);
    world.fault(Discovery8414, Fault::NetworkDown);
    let page = world.open("/");
    assert_eq!(page.state(), AuthState::SignedOut);
    assert_eq!(world.marker(), marker);
    assert!(opening_tries_a_restore(&world, "/"), "tried now");
}

#[test]
fn a_restore_left_through_the_back_forward_cache_stops_other_tabs_from_trying() {
    let world = World::new();
    world.signed_in();
    let page = world.open("/profile");
    assert_eq!(page.state(), AuthState::Restoring);
    page.page_shown(); // Back, and the page comes from the back-forward cache
    assert_eq!(page.state(), AuthState::SignedOut);
    assert_eq!(world.marker(), None);
}

fn marker_for(issuer: &str, expires_at: u64) -> String {
    format!(r#"{{"issuer":"{issuer}","client_id":"spa","expires_at":{expires_at}}}"#)
}

#[test]
fn a_marker_that_does_not_fit_is_dropped_without_a_redirect() {
    let cases = [
        ("another issuer", marker_for("https://other.example", T0 + 60)),
        ("expired", marker_for(ISSUER, T0)),
        ("lasting longer than any this app writes", marker_for(ISSUER, T0 + 10 * 365 * 24 * 3600)),
        ("unreadable", "{broken".to_owned()),
        ("not an object", "[1]".to_owned()),
    ];
    for (name, marker) in cases {
        let world = World::new();
        world.shared_storage.borrow_mut().insert("leptos-oidc:session".into(), marker);
        let page = world.open("/");
        assert_eq!(page.state(), AuthState::SignedOut, "{name}");
        assert_eq!(world.endpoints(0), [Config, Discovery], "{name}: no redirect");
        assert_eq!(world.marker(), None, "{name}: dropped");
    }
}

#[test]
fn restore_session_off_keeps_no_marker_and_never_redirects() {
    let world = World::new();
    world.configure(r#","restore_session":false"#);
    world.signed_in();
    assert_eq!(world.marker(), None);
    world.shared_storage.borrow_mut().insert("leptos-oidc:session".into(), marker_for(ISSUER, T0 + 60));
    let before = world.request_count();
    let page = world.open("/");
    assert_eq!(page.state(), AuthState::SignedOut);
    assert!(!world.endpoints(before).contains(&Authorize));
    assert_eq!(world.marker(), None, "a marker from before the switch is dropped");
}

#[test]
fn sign_out_forgets_the_marker() {
    let world = World::new();
    let session = world.signed_in();
    assert!(world.marker().is_some());
    session.sign_out();
    world.settle();
    assert_eq!(world.marker(), None);
    assert!(!opening_tries_a_restore(&world, "/"), "a reload after signing out stays signed out");
}

/// Opens `url` in a new tab of the same browser and follows its silent sign-in back.
fn restored_in_a_new_tab(world: &std::rc::Rc<World>, url: &str) -> Session<Tab> {
    world.new_tab();
    let page = world.open(url);
    assert_eq!(page.state(), AuthState::Restoring);
    let callback = world.approve();
    let session = world.open(&callback);
    assert!(matches!(session.state(), AuthState::SignedIn(_)), "{:?}", session.state());
    session
}

fn signed_in_sub(session: &Session<Tab>) -> Option<String> {
    match session.state() {
        AuthState::SignedIn(user) => Some(user.sub),
        _ => None,
    }
}

#[test]
fn a_sign_out_in_one_tab_signs_out_the_others() {
    let world = World::new();
    let a = world.signed_in();
    let tab_a = world.tab();
    let b = restored_in_a_new_tab(&world, "/orders");
    let b_refresh = world.live_refresh_token().expect("tab B's own grant");
    world.switch_to(&tab_a);
    let start = world.request_count();
    a.sign_out();
    world.settle();
    // The browser tells tab B through a `storage` event.
    b.shared_storage_changed(Some("leptos-oidc:signed-out"));
    world.settle();
    assert_eq!(b.state(), AuthState::SignedOut);
    assert!(b.signed_out_by_user(), "a protected page in B asks before signing in again");
    assert_eq!(access_token(&world, &b), Err(AuthError::NotSignedIn), "B forgot its tokens");
    let revoked: Vec<_> = world.requests.borrow()[start..]
        .iter()
        .filter(|r| r.endpoint == Revocation)
        .filter_map(|r| r.form.get("token").cloned())
        .collect();
    assert!(revoked.contains(&b_refresh), "B revoked its own refresh token: {revoked:?}");
    let logouts = world.endpoints(start).iter().filter(|e| **e == Logout).count();
    assert_eq!(logouts, 1, "only the acting tab went to the provider's logout");
}

#[test]
fn a_change_to_the_apps_own_storage_keys_is_not_taken_for_a_sign_out() {
    let world = World::new();
    let a = world.signed_in();
    let tab_a = world.tab();
    let b = restored_in_a_new_tab(&world, "/");
    world.switch_to(&tab_a);
    a.sign_out();
    world.settle();
    // Only the session's own keys are read: the app's "cart" changes nothing here...
    b.shared_storage_changed(Some("cart"));
    assert!(matches!(b.state(), AuthState::SignedIn(_)));
    // ...while the sign-out counter's own event (or all storage cleared) does.
    b.shared_storage_changed(None);
    assert_eq!(b.state(), AuthState::SignedOut);
}

/// Another tab keeping a DPoP nonce is no news here: a signed-out tab that has a marker it has
/// not tried yet (another tab's sign-in, whose own event may come later or the tab be hidden)
/// does not leave for the provider on the nonce's event.
#[test]
fn another_tab_keeping_a_dpop_nonce_changes_nothing_here() {
    let world = World::new();
    let b = signed_out_while_another_tab_signs_in(&world);
    let before = world.request_count();
    b.shared_storage_changed(Some("leptos-oidc:dpop-nonces"));
    world.settle();
    assert_eq!(world.endpoints(before), []);
    assert_eq!(b.state(), AuthState::SignedOut);
    // The control: the marker's own event does start the restore.
    b.shared_storage_changed(Some("leptos-oidc:session"));
    world.settle();
    assert_eq!(b.state(), AuthState::Restoring);
}

#[test]
fn a_storage_change_that_is_not_a_sign_out_leaves_a_tab_signed_in() {
    let world = World::new();
    let a = world.signed_in();
    world.advance(1);
    let _b = restored_in_a_new_tab(&world, "/");
    // B's sign-in rewrote the marker: A hears of it, and stays as it is.
    a.shared_storage_changed(Some("leptos-oidc:session"));
    assert!(matches!(a.state(), AuthState::SignedIn(_)));
    assert!(access_token(&world, &a).is_ok());
}

/// A tab on `/profile`, signed out, while another tab signs in (its marker is new here): the
/// first tab, current again.
fn signed_out_while_another_tab_signs_in(world: &std::rc::Rc<World>) -> Session<Tab> {
    let b = world.open("/profile");
    let tab_b = world.tab();
    world.new_tab();
    world.signed_in();
    world.switch_to(&tab_b);
    b
}

#[test]
fn a_sign_in_in_another_tab_signs_this_one_in_when_shown() {
    let world = World::new();
    let b = signed_out_while_another_tab_signs_in(&world);
    let before = world.request_count();
    b.page_visible();
    world.settle();
    assert_eq!(b.state(), AuthState::Restoring);
    assert_eq!(last_authorization(&world).get("prompt").map(String::as_str), Some("none"));
    let callback = world.approve();
    let restored = world.open(&callback);
    assert_eq!(signed_in_sub(&restored).as_deref(), Some("alice"));
    assert_eq!(world.page(), "/profile");
    assert_eq!(world.endpoints(before).iter().filter(|e| **e == Authorize).count(), 1);
    // Shown again, signed in: nothing to do.
    let before = world.request_count();
    restored.page_visible();
    world.settle();
    assert_eq!(world.endpoints(before), []);
}

#[test]
fn a_tab_shown_again_tries_a_marker_once() {
    let world = World::new();
    let tab_b = world.tab();
    let b = world.open("/");
    world.new_tab();
    world.signed_in();
    world.end_provider_session();
    world.switch_to(&tab_b);
    b.page_visible();
    world.settle();
    let callback = world.approve();
    let tried = world.marker().expect("the marker B tried");
    let back = world.open(&callback);
    assert_eq!(back.state(), AuthState::SignedOut, "login_required: quietly signed out");
    // The same marker again (as if its deletion had not happened): not tried twice.
    world.shared_storage.borrow_mut().insert("leptos-oidc:session".into(), tried);
    let before = world.request_count();
    back.page_visible();
    world.settle();
    assert_eq!(world.endpoints(before), [], "this tab tried that marker already");
}

#[test]
fn another_person_signing_in_leaves_no_tab_showing_the_first() {
    let world = World::new();
    let a = world.signed_in();
    let tab_a = world.tab();
    let b = restored_in_a_new_tab(&world, "/");
    let tab_b = world.tab();
    assert_eq!(signed_in_sub(&b).as_deref(), Some("alice"));

    world.switch_to(&tab_a);
    a.sign_out();
    world.settle();
    b.shared_storage_changed(Some("leptos-oidc:signed-out"));
    assert_eq!(signed_in_sub(&b), None, "B no longer shows alice");

    // Bob signs in in tab A.
    world.set_sub("bob");
    let callback = world.callback_of_a_sign_in();
    let a = world.open(&callback);
    assert_eq!(signed_in_sub(&a).as_deref(), Some("bob"));

    world.switch_to(&tab_b);
    b.page_visible();
    world.settle();
    let callback = world.approve();
    let b = world.open(&callback);
    match b.state() {
        AuthState::SignedIn(user) => {
            assert_eq!((user.sub.as_str(), user.name.as_deref()), ("bob", Some("Bob Builder")));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_shown_page_renews_before_expiry_without_being_asked() {
    let world = World::new();
    let session = world.signed_in();
    let start = world.request_count();
    world.advance(TTL - 31);
    assert_eq!(world.endpoints(start), [], "not before it is due");
    world.advance(1);
    assert_eq!(world.endpoints(start), [Refresh, Keys], "renewed by the timer at 570 s");
    let renewed = world.access_tokens()[1].clone();
    assert_eq!(access_token(&world, &session), Ok(renewed), "an API call then waits for nothing");
    world.advance(TTL - 30);
    assert_eq!(world.endpoints(start), [Refresh, Keys, Refresh, Keys], "and again, 570 s later");
}

#[test]
fn a_hidden_page_renews_nothing_until_shown_then_renews_first() {
    let world = World::new();
    let session = world.signed_in();
    let start = world.request_count();
    world.set_hidden(true);
    world.advance(3 * TTL);
    assert_eq!(world.endpoints(start), [], "a closed laptop asks nothing");
    world.set_hidden(false);
    session.page_visible();
    world.settle();
    assert_eq!(world.endpoints(start), [Refresh, Keys], "shown again: renewed at once");
    assert!(matches!(session.state(), AuthState::SignedIn(_)));
    assert_eq!(access_token(&world, &session), Ok(world.access_tokens()[1].clone()));
}

#[test]
fn the_timer_shows_a_session_the_provider_ended() {
    let world = World::new();
    let session = world.signed_in();
    world.fault(Refresh, Fault::Answer(400, r#"{"error":"invalid_grant"}"#));
    world.advance(TTL - 30);
    assert_eq!(session.state(), AuthState::Failed(AuthError::SessionExpired), "never a stale signed-in page");
}

#[test]
fn without_a_refresh_token_the_session_ends_when_the_token_expires() {
    let world = World::new();
    world.without_refresh_tokens();
    let session = world.signed_in();
    let start = world.request_count();
    world.advance(TTL - 1);
    assert!(matches!(session.state(), AuthState::SignedIn(_)), "valid until expiry");
    world.advance(1);
    assert_eq!(session.state(), AuthState::Failed(AuthError::SessionExpired));
    assert_eq!(world.endpoints(start), [], "nothing asked of the provider");
}

#[test]
fn the_timer_tries_again_after_a_passing_failure() {
    let world = World::new();
    let session = world.signed_in();
    let start = world.request_count();
    world.fault(Refresh, Fault::Answer(503, r#"{"error":"temporarily_unavailable"}"#));
    world.advance(TTL - 30);
    assert_eq!(world.endpoints(start), [Refresh]);
    assert!(matches!(session.state(), AuthState::SignedIn(_)));
    world.advance(9);
    assert_eq!(world.endpoints(start), [Refresh], "backing off");
    world.advance(1);
    assert_eq!(world.endpoints(start), [Refresh, Refresh, Keys], "tried again after 10 s, and renewed");
}

#[test]
fn no_timer_outlives_a_sign_out() {
    // Signed out while the timer's renewal is out: its answer arrives after the sign-out
    // (and is revoked); no timer is set from it, and nothing is renewed afterwards.
    let world = World::new();
    world.without_end_session();
    let session = world.signed_in();
    let start = world.request_count();
    world.fault(Refresh, Fault::Held);
    world.advance(TTL - 30);
    assert_eq!(world.endpoints(start), [Refresh]);
    session.sign_out();
    world.release();
    let after = world.request_count();
    world.advance(3 * TTL);
    assert_eq!(world.endpoints(after), [], "a signed-out page renews nothing");
    assert_eq!(session.state(), AuthState::SignedOut);
}

#[test]
fn a_sign_out_elsewhere_while_a_tab_is_away_restoring_stands() {
    let world = World::new();
    let a = world.signed_in();
    let callback = world.restore_overtaken_by_a_sign_out(&a);
    let start = world.request_count();
    let b = world.open(&callback);
    assert_eq!(b.state(), AuthState::SignedOut, "the sign-out is not undone");
    assert_eq!(world.marker(), None, "and no marker comes back");
    let revoked = world.request_to(Revocation, start, 0).form.get("token").cloned();
    assert_eq!(revoked, world.revoked().last().cloned(), "B's new refresh token is revoked");
    assert_eq!(world.live_refresh_token(), None);
    assert_eq!(world.page(), "/");
}

#[test]
fn a_failed_restore_leaves_a_newer_marker_alone() {
    let world = World::new();
    world.signed_in();
    let tab_a = world.tab();
    world.new_tab();
    world.open("/");
    world.refuse_silent_sign_in("interaction_required");
    let refused = world.approve();
    let tab_b = world.tab();
    // Meanwhile A signs in again: a newer marker.
    world.switch_to(&tab_a);
    world.advance(1);
    world.signed_in();
    let newer = world.marker().expect("A's marker");
    world.switch_to(&tab_b);
    world.open(&refused);
    assert_eq!(world.marker(), Some(newer), "B's failure removed only the marker it tried");
}

#[test]
fn a_tab_whose_session_ended_is_restored_by_a_sign_in_elsewhere_when_shown() {
    let world = World::new();
    world.set_hidden(true);
    let b = world.signed_in();
    let tab_b = world.tab();
    world.advance(TTL);
    world.fault(Refresh, Fault::Answer(400, r#"{"error":"invalid_grant"}"#));
    assert_eq!(access_token(&world, &b), Err(AuthError::SessionExpired));
    world.new_tab();
    world.advance(1);
    world.signed_in();
    world.switch_to(&tab_b);
    world.set_hidden(false);
    b.visibility_changed();
    world.settle();
    assert_eq!(b.state(), AuthState::Restoring, "'Your session has ended' gives way to the new session");
}

#[test]
fn a_page_back_from_the_cache_takes_in_a_sign_out_it_missed() {
    let world = World::new();
    let a = world.signed_in();
    let tab_a = world.tab();
    let b = restored_in_a_new_tab(&world, "/");
    world.switch_to(&tab_a);
    a.sign_out();
    world.settle();
    // B was in the back-forward cache: no storage event reached it.
    assert!(matches!(b.state(), AuthState::SignedIn(_)));
    b.page_shown();
    world.settle();
    assert_eq!(b.state(), AuthState::SignedOut);
}

#[test]
fn a_token_that_outlives_the_longest_timer_still_ends_the_session_on_time() {
    // 30 days, past setTimeout's 24.8-day limit: the timer is set in steps.
    let world = World::new();
    world.without_refresh_tokens();
    world.set_ttl(30 * 24 * 3600);
    let session = world.signed_in();
    world.advance(30 * 24 * 3600 - 1);
    assert!(matches!(session.state(), AuthState::SignedIn(_)));
    // Within a second of expiry (the timers count whole seconds from when they are set).
    world.advance(2);
    assert_eq!(session.state(), AuthState::Failed(AuthError::SessionExpired));
}
