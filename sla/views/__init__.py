"""Pages of support managers (namespace "manager") and the customers' service pages
(namespace "service"): dashboard, availability, announcements, SLA changes, reports."""
