"""The app's pages, in the order of the navigation bar."""

from dashboards.pages import admin, audit, conference, enrolment, home, model, patient, quality

PAGES = (home, conference, patient, enrolment, audit, model, quality, admin)
