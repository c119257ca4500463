SELECT
  src.campus_code,
  SUM(src.occupied_bed_days) AS occupied_bed_days,
  SUM(src.open_bed_days) AS open_bed_days
FROM (
  SELECT
    agg_bed_monthly.stat_date AS stat_date,
    agg_bed_monthly.campus_code AS campus_code,
    agg_bed_monthly.occupied_bed_days AS occupied_bed_days,
    agg_bed_monthly.open_bed_days AS open_bed_days
  FROM agg_bed_monthly
  WHERE
    agg_bed_monthly.stat_date BETWEEN '2021-12-01' AND '2022-01-31'
  UNION ALL
  SELECT
    agg_bed_daily.stat_date AS stat_date,
    agg_bed_daily.campus_code AS campus_code,
    agg_bed_daily.occupied_bed_days AS occupied_bed_days,
    agg_bed_daily.open_bed_days AS open_bed_days
  FROM agg_bed_daily
  WHERE
    agg_bed_daily.stat_date BETWEEN '2021-11-15' AND '2021-11-30'
    OR agg_bed_daily.stat_date BETWEEN '2022-02-01' AND '2022-02-10'
) AS src
GROUP BY
  src.campus_code
