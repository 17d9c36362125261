{{ landed_rows('identifies') }}
