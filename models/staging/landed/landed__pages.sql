{{ landed_rows('pages') }}
