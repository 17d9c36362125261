{{ landed_rows('email_events') }}
