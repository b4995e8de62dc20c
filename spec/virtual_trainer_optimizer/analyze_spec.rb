# frozen_string_literal: true

RSpec.describe VirtualTrainerOptimizer::SQL, ".analyze", :native do
  sql = described_class

  after { sql.max_nesting_depth = sql::DEFAULT_MAX_NESTING_DEPTH }

  it "returns the contract keys with string keys" do
    shape = sql.analyze('SELECT "users".* FROM "users" WHERE "users"."id" = $1 LIMIT $2')
    expect(shape.keys).to include("kind", "tables", "predicates", "order_by", "limit", "offset", "lints")
    expect(shape).to include(
      "kind" => "select",
      "tables" => [{ "name" => "users", "alias" => nil }],
      "predicates" => [{ "table" => "users", "column" => "id", "op" => "eq", "clause" => "where" }],
      "limit" => "?", "offset" => nil, "select_star" => true, "lints" => []
    )
  end

  it "resolves aliases, finds joins, order, literal limits and lints" do
    shape = sql.analyze(<<~SQL, dialect: :mysql2)
      SELECT w.* FROM `workouts` w INNER JOIN `users` u ON u.`id` = w.`user_id`
      WHERE u.`email` LIKE '%@example.com' ORDER BY w.`created_at` DESC LIMIT 25 OFFSET 5000
    SQL
    expect(shape["predicates"]).to eq([{ "table" => "users", "column" => "email", "op" => "like_contains",
                                         "clause" => "where" }])
    expect(shape["joins"]).to eq([{ "left" => { "table" => "users", "column" => "id" },
                                    "right" => { "table" => "workouts", "column" => "user_id" } }])
    expect(shape["order_by"]).to eq([{ "table" => "workouts", "column" => "created_at", "expression" => nil,
                                       "direction" => "desc" }])
    expect(shape.values_at("limit", "offset")).to eq([25, 5000])
    expect(shape["lints"].map { |l| l["code"] }).to eq(%w[leading_wildcard_like large_offset])
    expect(shape["lints"].first["why"]).to match(/leading wildcard/)
  end

  it "raises ParseError with the parser's message" do
    expect { sql.analyze("SELECT FROM WHERE") }
      .to raise_error(VirtualTrainerOptimizer::ParseError, /Expected: table name, found: WHERE/)
    expect { sql.analyze("SELECT '\xff'".b) }.to raise_error(VirtualTrainerOptimizer::ParseError, /UTF-8/)
  end

  it "refuses deep nesting and oversized input with InputTooLarge, before parsing" do
    expect { sql.analyze("SELECT #{'(' * 10_000}1#{')' * 10_000}") }
      .to raise_error(VirtualTrainerOptimizer::InputTooLarge, /nest deeper than the limit of 32/)
    sql.max_nesting_depth = 4
    expect { sql.analyze("SELECT (((((1)))))") }.to raise_error(VirtualTrainerOptimizer::InputTooLarge, /of 4/)
    expect { sql.analyze(" " * (sql.max_input_bytes + 1)) }
      .to raise_error(VirtualTrainerOptimizer::InputTooLarge, /exceeds the limit of 1048576 bytes/)
  end

  it "walks the longest chain it accepts inside a Fiber and a Thread (small stacks)" do
    chain = "SELECT 1 FROM t WHERE #{Array.new(240) { |i| "c#{i} = #{i}" }.join(' AND ')}"
    expect(Fiber.new { sql.analyze(chain)["predicates"].size }.resume).to eq(240)
    expect(Thread.new { sql.analyze(chain.sub("c0", "d0"))["predicates"].size }.value).to eq(240)
    longer = "SELECT 1 FROM t WHERE #{Array.new(300) { |i| "c#{i} = #{i}" }.join(' AND ')}"
    expect { Fiber.new { sql.analyze(longer) }.resume }
      .to raise_error(VirtualTrainerOptimizer::InputTooLarge, /more than 500 operators/)
  end

  it "parses once per fingerprint and counts cache hits" do
    sql.clear_cache!
    3.times { |i| sql.analyze("SELECT * FROM diets WHERE user_id = #{i}") }
    expect(sql.cache_stats).to include("hits" => 2, "misses" => 1, "entries" => 1, "capacity" => 10_000)
  end

  it "stays usable from many threads" do
    threads = Array.new(4) do |t|
      Thread.new { Array.new(50) { |i| sql.analyze("SELECT * FROM t#{t} WHERE a = #{i}")["tables"] }.uniq }
    end
    expect(threads.map(&:value)).to eq(Array.new(4) { |t| [[{ "name" => "t#{t}", "alias" => nil }]] })
  end
end
