"""Upline's Chalice app: create it, add middleware, register the blueprints. Nothing else."""
from chalice import Chalice

from chalicelib.api import admin, links, partners, webhooks
from chalicelib.api.middleware import install
from chalicelib import member_jobs
from chalicelib.api import members

app = Chalice(app_name="upline")
install(app)
app.register_blueprint(partners.bp)
app.register_blueprint(links.bp)
app.register_blueprint(webhooks.bp)
app.register_blueprint(admin.bp)
# members (issue 4)
app.register_blueprint(members.bp)
app.register_blueprint(member_jobs.bp)


@app.route("/health")
def health():
    return {"ok": True}
