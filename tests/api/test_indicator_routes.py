SEED = {"indicators": ["药占比"], "start": "2023-01-01", "end": "2023-09-08", "compare": ["yoy"]}


def test_openapi_documents_the_routes(client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in [
        "/api/v1/indicators",
        "/api/v1/indicators/{name}",
        "/api/v1/indicators/query",
        "/api/v1/dimensions/{dimension}",
        "/api/v1/meta",
    ]:
        assert path in paths


def test_meta_reports_the_as_of_date(client) -> None:
    body = client.get("/api/v1/meta").json()
    assert body["as_of"] == "2023-09-08" and body["data_start"] == "2019-01-01"


def test_list_and_search_catalog(client) -> None:
    everything = client.get("/api/v1/indicators").json()
    assert len(everything) >= 45
    national = client.get("/api/v1/indicators", params={"system": "国考"}).json()
    assert national and all("国考" in i["systems"] for i in national)
    assert [i["code"] for i in client.get("/api/v1/indicators", params={"q": "药比"}).json()] == [
        "drug_ratio"
    ]


def test_indicator_detail_has_versions_and_lineage(client) -> None:
    body = client.get("/api/v1/indicators/药占比（不含中药饮片）").json()
    assert [v["version"] for v in body["indicator"]["versions"]] == ["1.0", "2.0"]
    assert "fact_outpatient_fee.amount" in body["lineage"]["raw_columns"]
    assert {t["kind"]: t["value"] for t in body["indicator"]["targets"]} == {"national": 30, "internal": 35}
    assert "百分点" in body["comparison_rule"]


def test_dimension_values(client) -> None:
    campuses = [m["name"] for m in client.get("/api/v1/dimensions/campus").json()]
    assert campuses == ["本部", "东院区", "西院区"]
    depts = client.get("/api/v1/dimensions/department", params={"q": "内科"}).json()
    assert len(depts) >= 5
    doctors = client.get("/api/v1/dimensions/doctor", params={"department": "心血管内科"}).json()
    assert doctors and all(
        d["attributes"]["dept_code"] == doctors[0]["attributes"]["dept_code"] for d in doctors
    )
    assert not any(k.startswith("patient") for d in doctors for k in d["attributes"])


def test_query_returns_values_plan_and_sql(client) -> None:
    body = client.post("/api/v1/indicators/query", json=SEED).json()
    result = body["results"][0]
    assert body["query"]["indicators"] == ["药占比"] and body["as_of"] == "2023-09-08"
    assert result["rows"][0]["comparisons"]["yoy"]["change_unit"] == "百分点"
    assert result["sql"] and result["caliber_note"]


def test_errors_have_one_shape_and_the_server_keeps_serving(client) -> None:
    bad = [
        client.post("/api/v1/indicators/query", json={**SEED, "indicators": ["药品占比率"]}),
        client.post("/api/v1/indicators/query", json={**SEED, "filters": {"department": ["心内"]}}),
        client.post("/api/v1/indicators/query", json={**SEED, "end": "2024-12-31"}),
        client.post("/api/v1/indicators/query", json={**SEED, "start": "2023-02-30"}),
        client.post("/api/v1/indicators/query", json={**SEED, "group_by": ["ward"]}),
        client.post(
            "/api/v1/indicators/query",
            content=b'{"indicators": ["x"',
            headers={"content-type": "application/json"},
        ),
        client.post("/api/v1/indicators/query", json={**SEED, "note": "x" * 5000}),
        client.get("/api/v1/indicators/没有这个指标"),
        client.get("/api/v1/dimensions/ward"),
    ]
    assert [r.status_code for r in bad] == [404, 422, 422, 422, 422, 422, 413, 404, 422]
    for r in bad:
        error = r.json()["error"]
        assert error["message"] and error["type"]
    assert bad[0].json()["error"]["suggestions"]
    assert "心血管内科" in bad[1].json()["error"]["suggestions"]
    assert "2023-09-08" in bad[2].json()["error"]["message"]
    assert client.post("/api/v1/indicators/query", json=SEED).status_code == 200
