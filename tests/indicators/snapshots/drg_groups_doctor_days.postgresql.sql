SELECT
  COUNT(DISTINCT src.drg_code) AS drg_groups
FROM (
  SELECT
    agg_drg_daily.stat_date AS stat_date,
    agg_drg_daily.drg_code AS drg_code
  FROM agg_drg_daily
  WHERE
    agg_drg_daily.stat_date BETWEEN '2020-02-27' AND '2020-03-02'
    AND agg_drg_daily.doctor_code IN ('D0001')
) AS src
