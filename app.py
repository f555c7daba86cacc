"""Upline's Chalice app: create it, add middleware, register the blueprints. Nothing else."""

from chalice import Chalice, Response

from chalicelib import jobs, member_jobs
from chalicelib.api import (
    admin,
    analytics,
    compliance,
    coupons,
    integrations,
    leaderboards,
    links,
    members,
    openapi,
    outbound,
    partners,
    portal,
    review,
    settlements,
    webhooks,
)
from chalicelib.api.middleware import install

app = Chalice(app_name="upline")
install(app)
app.register_blueprint(partners.bp)
app.register_blueprint(links.bp)
app.register_blueprint(coupons.bp)
app.register_blueprint(webhooks.bp)
app.register_blueprint(integrations.bp)
app.register_blueprint(admin.bp)
app.register_blueprint(compliance.bp)
app.register_blueprint(leaderboards.bp)
app.register_blueprint(settlements.bp)
app.register_blueprint(members.bp)
app.register_blueprint(portal.bp)
app.register_blueprint(jobs.bp)
app.register_blueprint(member_jobs.bp)
app.register_blueprint(review.bp)
app.register_blueprint(outbound.bp)
app.register_blueprint(openapi.bp)
app.register_blueprint(analytics.bp)


@app.route("/health")
def health():
    return Response(body={"ok": True}, headers={"Content-Type": "application/json"})
