# frozen_string_literal: true

ActiveRecord::Schema.define do
  create_table :teams, force: :cascade do |t|
    t.string :name, null: false
    t.timestamps
  end

  create_table :users, force: :cascade do |t|
    t.references :team, index: true
    t.string :email, null: false
    t.string :name
    t.timestamps
  end

  create_table :profiles, force: :cascade do |t|
    t.references :user, index: true
    t.string :goal
    t.decimal :weight_kg
    t.timestamps
  end

  create_table :diets, force: :cascade do |t|
    t.bigint :user_id # no index on purpose: the fix hint names the missing one
    t.string :name
    t.integer :calories
    t.timestamps
  end

  create_table :workouts, force: :cascade do |t|
    t.references :user, index: true
    t.string :title
    t.integer :duration_minutes
    t.timestamps
  end

  create_table :exercise_groups, force: :cascade do |t|
    t.references :workout, index: true
    t.string :name
    t.timestamps
  end

  create_table :exercises, force: :cascade do |t|
    t.references :exercise_group, index: true
    t.string :name
    t.integer :reps
    t.timestamps
  end

  create_table :completed_workouts, force: :cascade do |t|
    t.bigint :user_id # no index on purpose
    t.references :workout, index: true
    t.integer :calories
    t.timestamps
  end

  create_table :completed_exercises, force: :cascade do |t|
    t.references :completed_workout, index: true
    t.references :exercise, index: true
    t.integer :reps
    t.timestamps
  end

  create_table :comments, force: :cascade do |t|
    t.string :commentable_type
    t.bigint :commentable_id
    t.references :user, index: true
    t.text :body
    t.timestamps
  end
  add_index :comments, %i[commentable_type commentable_id]

  # Index advisor fixtures: what the index analyses must find, and what they
  # must leave alone, on each database.
  postgresql = connection.adapter_name.match?(/postg/i)
  enable_extension "pg_trgm" if postgresql

  # A declared foreign key (ON DELETE CASCADE) without an index, and a partial
  # index on its column, which does not serve the foreign key's lookups.
  create_table :notifications, force: :cascade do |t|
    t.references :user, null: false, index: false, foreign_key: { on_delete: :cascade }
    t.string :kind
    t.datetime :read_at
    t.timestamps
  end
  add_index :notifications, :user_id, where: "read_at IS NULL", name: "index_notifications_unread" if connection.supports_partial_index?

  # A *_id column by convention without an index; an exact duplicate; a left
  # prefix of a wider index; a unique index that a wider one does not replace.
  create_table :api_request_logs, force: :cascade do |t|
    t.bigint :user_id
    t.string :request_id, null: false
    t.string :path, null: false
    t.integer :status
    t.timestamps
  end
  add_index :api_request_logs, :created_at
  add_index :api_request_logs, :created_at, name: "index_api_request_logs_on_created_at_again"
  add_index :api_request_logs, :path
  add_index :api_request_logs, %i[path created_at]
  add_index :api_request_logs, :request_id, unique: true
  add_index :api_request_logs, %i[request_id status]

  # A polymorphic pair without an index.
  create_table :likes, force: :cascade do |t|
    t.string :likeable_type
    t.bigint :likeable_id
    t.references :user, index: true
    t.timestamps
  end

  # A composite primary key: it serves team_id, not user_id.
  create_table :team_memberships, primary_key: %i[team_id user_id], force: :cascade do |t|
    t.bigint :team_id, null: false
    t.bigint :user_id, null: false
    t.string :role
  end

  # A trigram index beside a btree on the same column, and an expression
  # index: neither is redundant.
  if postgresql
    add_index :exercises, :name
    add_index :exercises, :name, using: :gin, opclass: :gin_trgm_ops, name: "index_exercises_on_name_trgm"
    add_index :users, "lower(email)", name: "index_users_on_lower_email"
  end

  # Retention and governance fixtures: personal and health columns, a soft
  # delete, logs that grow, a food catalogue whose calories are not about a
  # person, and a user-owned table nothing erases.
  add_column :users, :phone, :string
  add_column :users, :birth_date, :date
  add_column :users, :last_sign_in_ip, :string
  add_column :users, :deleted_at, :datetime

  create_table :body_measurements, force: :cascade do |t|
    t.references :user, index: true
    t.decimal :weight_kg
    t.decimal :body_fat_pct
    t.integer :resting_heart_rate
    t.datetime :measured_at
    t.timestamps
  end

  create_table :injuries, force: :cascade do |t|
    t.references :user, index: true
    t.string :body_part
    t.text :description
    t.timestamps
  end

  create_table :ai_generation_logs, force: :cascade do |t|
    t.references :user, index: true
    t.string :model
    t.text :prompt
    t.integer :total_tokens
    t.timestamps
  end

  create_table :foods, force: :cascade do |t|
    t.string :name
    t.integer :calories
    t.timestamps
  end
end
