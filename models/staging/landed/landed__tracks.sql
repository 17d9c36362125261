{{ landed_rows('tracks') }}
