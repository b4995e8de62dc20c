# frozen_string_literal: true

require_relative "rails_helper"
require "tmpdir"
require "virtual_trainer_optimizer/retention"

# The governance check on the spec app's schema (its retention fixtures:
# body measurements, injuries, AI generation logs, a food catalogue, a soft
# delete on users), on the database VTO_DB names.
RSpec.describe "Retention check (#{VirtualTrainer::DB})" do
  retention = VirtualTrainerOptimizer::Retention

  before do
    retention.define do
      table :api_request_logs, keep: 90.days, action: :delete
      table :completed_workouts, keep: 2.years, action: :archive, where: "calories > 0"
      table :body_measurements, keep: 1.year, action: :anonymize, columns: %i[weight_kg body_fat_pct]
      subject :users
    end
  end

  after { retention.reset! }

  let(:findings) { retention.check(connection: ActiveRecord::Base.connection) }

  def of_kind(kind)
    findings.select { |f| f.kind == kind }
  end

  it "classifies health columns as special-category and personal data by name, and leaves a food catalogue alone" do
    classified = retention.classification(connection: ActiveRecord::Base.connection)
    by = classified.to_h { |c| ["#{c['table']}.#{c['column']}", c] }
    %w[body_measurements.weight_kg body_measurements.body_fat_pct body_measurements.resting_heart_rate].each do |name|
      expect(by.fetch(name)).to include("special_category" => true)
      expect(by.fetch(name)["category"]).to start_with("health:")
    end
    %w[users.email users.phone users.birth_date users.last_sign_in_ip].each do |name|
      expect(by.fetch(name)).to include("special_category" => false)
      expect(by.fetch(name)["category"]).to start_with("pii:")
    end
    expect(by).not_to have_key("foods.calories")
    special = of_kind(:special_category_column).map { |f| [f.table, f.column] }
    expect(special).to include(%w[body_measurements weight_kg])
    expect(of_kind(:special_category_column)).to all(have_attributes(priority: :high))
  end

  it "finds the user-owned table nothing erases, with its path, and not the covered ones" do
    gaps = of_kind(:erasure_gap)
    injuries = gaps.find { |f| f.table == "injuries" }
    expect(injuries.path).to eq(%w[users injuries])
    expect(injuries.suggestion).to include("dependent:")
    # dependent: :destroy / :delete_all, an ON DELETE CASCADE foreign key, an anonymize policy.
    expect(gaps.map(&:table)).not_to include("body_measurements", "ai_generation_logs", "notifications")
  end

  it "names growing tables without a policy, with a period for their kind of data" do
    none = of_kind(:no_policy)
    logs = none.find { |f| f.table == "ai_generation_logs" }
    expect(logs.suggestion).to match(/\Atable :ai_generation_logs, keep: \d+\.days, action: :delete/)
    expect(none.map(&:table)).not_to include("api_request_logs", "completed_workouts", "body_measurements",
                                             "schema_migrations", "ar_internal_metadata")
  end

  it "says which cleanup would scan its table, with the index" do
    unindexed = of_kind(:unindexed_policy_column)
    expect(unindexed.map(&:table)).to include("completed_workouts")
    expect(unindexed.map(&:table)).not_to include("api_request_logs") # created_at has an index
    expect(unindexed.find { |f| f.table == "completed_workouts" }.suggestion).to include("add_index :completed_workouts")
  end

  it "finds soft-deleted rows nobody purges" do
    expect(of_kind(:soft_delete_without_purge).map { |f| [f.table, f.column] }).to include(%w[users deleted_at])
    # MySQL has no partial indexes to suggest.
    expect(of_kind(:soft_delete_without_partial_index).map(&:table)).to include("users") unless VirtualTrainer::DB == "mysql"
  end

  it "never puts a row's contents in a finding" do
    User.first.update!(phone: "+15550100", last_sign_in_ip: "203.0.113.9")
    text = findings.map { |f| f.to_h.to_json }.join
    expect(text).not_to include("+15550100", "203.0.113.9", "@example.com")
  end

  it "prints the check with rake vto:retention:check, as text or JSON" do
    run = ->(format) { run_rake("vto:retention:check", { "FORMAT" => format }) }
    text = run.call("text")
    expect(text).to match(/\Avirtual_trainer_optimizer: \d+ retention and governance findings\n\n1\. /)
    expect(text).to match(/erasure gap \[\w+\] injuries\S* \(users -> injuries\)/)
    json = JSON.parse(run.call("json"))
    expect(json.map { |f| f["kind"] }).to include("erasure_gap", "special_category_column", "no_policy")
  end

  describe "policies" do
    it "are checked when declared" do
      expect { retention.define { table :t, keep: 90.days, action: :shred } }
        .to raise_error(ArgumentError, /t: action must be one of :delete, :archive, :anonymize, :keep, got :shred/)
      expect { retention.define { table :t } }.to raise_error(ArgumentError, /t: keep: is required for :delete/)
      expect(retention.define { table :t, keep: :account_lifetime }.first.keep_seconds).to be_nil
      expect { retention.define { table :t, keep: 1.year, action: :anonymize } }
        .to raise_error(ArgumentError, /t: anonymize needs columns:/)
      expect { retention.define { table :t, action: :keep } }.to raise_error(ArgumentError, /t: keep: needs legal_basis:/)
      expect { retention.define { table :t, keep: "soon" } }.to raise_error(ArgumentError, /positive duration/)
      expect { retention.define { table :t, keep: 90.days, batch_size: 0 } }.to raise_error(ArgumentError, /batch_size/)
      hashed = retention.define { table :t, keep: 1.year, action: :anonymize, columns: { email: :hash, phone: :null } }
      expect(hashed.first.to_h).to include(columns: %w[email phone], hashed_columns: %w[email])
      expect { retention.define { table :t, keep: 1.year, action: :anonymize, columns: { email: :scramble } } }
        .to raise_error(ArgumentError, /t: columns: email must be :null or :hash, got :scramble/)
    end

    it "that cannot run are reported by the check and skipped by a run" do
      retention.define do
        table :users, keep: 1.year, action: :anonymize, columns: { id: :null, team_id: :hash }
        table :api_request_logs, keep: 90.days, action: :delete
      end
      reasons = findings.select { |f| f.kind == :invalid_policy && f.table == "users" }.map(&:reason).join(" ")
      expect(reasons).to include("part of the primary key", "of type")
      summary = retention.run(connection: ActiveRecord::Base.connection)
      expect(summary["users"].status).to eq(:skipped)
      expect(summary["users"].reason).to start_with("invalid policy: ").and include("primary key")
      expect(summary["api_request_logs"].status).to eq(:dry_run)
    end

    it "load from YAML" do
      Dir.mktmpdir do |dir|
        path = File.join(dir, "vto_retention.yml")
        File.write(path, <<~YAML)
          subject: users
          tables:
            api_request_logs: { keep: 90 days, action: delete }
            audit_events: { action: keep, legal_basis: "legal obligation: accounting" }
        YAML
        policies = retention.load_file(path)
        expect(policies.map { |p| [p.table, p.keep_seconds, p.action] })
          .to eq([["api_request_logs", 90 * 86_400, :delete], ["audit_events", nil, :keep]])
        File.write(path, "tables: [1]\n")
        expect { retention.load_file(path) }.to raise_error(ArgumentError, /expected `tables:`/)
      end
    end
  end
end
