"""Who may call what: every route declares it, objects answer only their home's hub, the operator has no route."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from cloud.conftest import CloudUnderTest
from cloud.review.conftest import make_staff
from homewarden.cloud.api.deps import check_every_route_has_a_policy, for_account, route_policies

OBJECT_ID = "auth_0123456789abcdef"
STAFF_POLICIES = ("staff", "reviewer", "review_admin")


def test_every_object_and_home_route_admits_only_a_signed_hub(cloud: CloudUnderTest) -> None:
    policies = route_policies(cloud.client.app)  # type: ignore[arg-type]

    object_routes = {route: policy for route, policy in policies.items() if route[1].startswith("/api/v1/objects")}

    assert len(object_routes) == 8
    assert set(object_routes.values()) == {"hub"}
    assert policies[("GET", "/api/v1/home")] == "hub"
    # What the household's account reaches is its own account, never object bytes.
    account_routes = sorted(route for route, policy in policies.items() if policy == "account")
    assert account_routes == [
        ("DELETE", "/api/v1/hubs/{hub_id}"),
        ("DELETE", "/api/v1/session"),
        ("GET", "/api/v1/account"),
        ("GET", "/api/v1/hubs"),
        ("POST", "/api/v1/pairing-codes"),
    ]


def test_every_review_program_route_admits_only_a_signed_hub(cloud: CloudUnderTest) -> None:
    policies = route_policies(cloud.client.app)  # type: ignore[arg-type]

    review_routes = {
        route: policy
        for route, policy in policies.items()
        if route[1].startswith(("/api/v1/donations", "/api/v1/review/"))
    }

    assert review_routes == {
        ("GET", "/api/v1/review/program-key"): "hub",
        ("PUT", "/api/v1/donations/{donation_id}"): "hub",
        ("GET", "/api/v1/donations/{donation_id}"): "hub",
        ("DELETE", "/api/v1/donations/{donation_id}"): "hub",
        ("GET", "/api/v1/review/receipts"): "hub",
        ("GET", "/api/v1/review/checkpoint"): "hub",
        ("GET", "/api/v1/review/chain"): "hub",
        ("GET", "/api/v1/review/model"): "hub",
        ("GET", "/api/v1/review/models/{version}"): "hub",
    }


def test_the_operator_has_no_route_to_a_homes_objects(cloud: CloudUnderTest) -> None:
    """There is no admin role at all: no path or credential but the home's paired hub reaches its objects."""
    hub = cloud.account().pair_hub()
    assert hub.put(OBJECT_ID, b"sealed clip").status_code == 201
    other_account = cloud.account()
    policies = route_policies(cloud.client.app)  # type: ignore[arg-type]

    as_account = cloud.client.get(f"/api/v1/objects/{OBJECT_ID}", headers=other_account.auth)
    as_own_account = cloud.client.get("/api/v1/objects", headers={"Authorization": f"Bearer {other_account.token}"})
    guesses = [cloud.client.get(path) for path in ("/admin", "/api/v1/admin/objects", "/api/v1/homes")]

    # The review program's admins are the one admin role: counts and reviewer accounts, no home's data; their page
    # and its script are public static files that show nothing without an admin's session.
    admin_pages = {("GET", "/review-admin"), ("GET", "/review-admin/admin.js")}
    assert not any(
        ("admin" in path or "operator" in path) and policy != "review_admin" and (method, path) not in admin_pages
        for (method, path), policy in policies.items()
    )
    assert as_account.status_code == 401
    assert as_own_account.status_code == 401
    assert [answer.status_code for answer in guesses] == [404, 404, 404]
    assert all(answer.json() == {"detail": "Not Found"} for answer in guesses)


def test_staff_routes_admit_only_their_role_and_no_household_route_admits_staff(cloud: CloudUnderTest) -> None:
    """Walk every route with a household's, a reviewer's and an admin's token: each reaches only its own."""
    policies = route_policies(cloud.client.app)  # type: ignore[arg-type]
    household = cloud.account()
    reviewer = make_staff(cloud.services, cloud.client)
    admin = make_staff(cloud.services, cloud.client, "admin")
    admitted = {
        "account": {"account"},
        "reviewer": {"staff", "reviewer"},
        "admin": {"staff", "review_admin"},
    }
    staff_routes = {route: policy for route, policy in policies.items() if policy in STAFF_POLICIES}

    assert staff_routes == {
        ("GET", "/api/v1/staff/session"): "staff",
        ("DELETE", "/api/v1/staff/session"): "staff",
        ("GET", "/api/v1/workbench"): "reviewer",
        ("POST", "/api/v1/workbench/next"): "reviewer",
        ("POST", "/api/v1/workbench/assignments/{assignment_id}/media"): "reviewer",
        ("GET", "/api/v1/workbench/media/{token}"): "reviewer",
        ("POST", "/api/v1/workbench/assignments/{assignment_id}/labels"): "reviewer",
        ("POST", "/api/v1/workbench/assignments/{assignment_id}/flag"): "reviewer",
        ("GET", "/api/v1/review-admin/queue"): "review_admin",
        ("GET", "/api/v1/review-admin/reviewers"): "review_admin",
        ("POST", "/api/v1/review-admin/reviewers"): "review_admin",
        ("POST", "/api/v1/review-admin/reviewers/{username}/disable"): "review_admin",
    }
    # No admin route names media, a clip, a donation's bytes or an object.
    assert not any(
        word in path
        for (_m, path), policy in staff_routes.items()
        if policy == "review_admin"
        for word in ("media", "clip", "object", "donation")
    )
    for (method, path), policy in policies.items():
        if policy in ("public", "hub") or method == "HEAD" or (path == "/api/v1/staff/session" and method == "DELETE"):
            continue
        concrete = path.format(
            assignment_id=1, token="t" * 43, username="nobody", hub_id="hub_x", object_id=OBJECT_ID, upload_id="u"
        )
        for who, headers in (("account", household.auth), ("reviewer", reviewer.auth), ("admin", admin.auth)):
            if policy in admitted[who]:
                continue
            answer = cloud.client.request(method, concrete, headers=headers, json={})
            assert answer.status_code in (401, 403), f"{who} reached {method} {path}: {answer.status_code}"


def test_a_route_without_a_policy_stops_the_app() -> None:
    app = FastAPI()

    @app.get("/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    with pytest.raises(RuntimeError, match="/forgotten has no policy"):
        check_every_route_has_a_policy(app)


def test_a_route_marked_for_accounts_without_the_session_check_stops_the_app() -> None:
    app = FastAPI()

    @app.get("/claims-accounts")
    @for_account
    def claims() -> dict[str, str]:
        return {}

    with pytest.raises(RuntimeError, match="does not depend on current_account"):
        check_every_route_has_a_policy(app)
