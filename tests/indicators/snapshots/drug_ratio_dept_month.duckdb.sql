SELECT
  src.stat_year,
  src.stat_month,
  SUM(CASE WHEN (
    src.fee_class_code IN ('F13', 'F14', 'F15')
  ) THEN src.amount END) AS drug_revenue,
  SUM(src.amount) AS medical_revenue
FROM (
  SELECT
    agg_fee_monthly.stat_date AS stat_date,
    agg_fee_monthly.stat_year AS stat_year,
    agg_fee_monthly.stat_month AS stat_month,
    agg_fee_monthly.fee_class_code AS fee_class_code,
    agg_fee_monthly.amount AS amount
  FROM agg_fee_monthly
  WHERE
    agg_fee_monthly.stat_date BETWEEN '2023-01-01' AND '2023-08-31'
    AND agg_fee_monthly.dept_code IN ('NK04')
  UNION ALL
  SELECT
    agg_fee_daily.stat_date AS stat_date,
    agg_fee_daily.stat_year AS stat_year,
    agg_fee_daily.stat_month AS stat_month,
    agg_fee_daily.fee_class_code AS fee_class_code,
    agg_fee_daily.amount AS amount
  FROM agg_fee_daily
  WHERE
    agg_fee_daily.stat_date BETWEEN '2023-09-01' AND '2023-09-08'
    AND agg_fee_daily.dept_code IN ('NK04')
) AS src
GROUP BY
  src.stat_year,
  src.stat_month
