# frozen_string_literal: true

# Virtual Trainer's schema, with two of its mistakes: completed_workouts.user_id
# has no index (every "my workouts" query scans), and notifications has an index
# that its composite index already covers.
ActiveRecord::Schema.define(version: 2026_11_01_000000) do
  create_table :teams, force: :cascade do |t|
    t.string :name, null: false
    t.timestamps
  end

  create_table :users, force: :cascade do |t|
    t.references :team, index: true
    t.string :email, null: false
    t.string :name
    t.string :phone
    t.date :birth_date
    t.string :last_sign_in_ip
    t.timestamps
  end
  add_index :users, :email, unique: true

  create_table :workouts, force: :cascade do |t|
    t.references :user, index: true
    t.string :title, null: false
    t.integer :duration_minutes
    t.timestamps
  end

  create_table :exercise_groups, force: :cascade do |t|
    t.references :workout, index: true
    t.string :name
    t.integer :position
    t.timestamps
  end

  create_table :exercises, force: :cascade do |t|
    t.references :exercise_group, index: true
    t.string :name, null: false
    t.integer :reps
    t.timestamps
  end

  create_table :completed_workouts, force: :cascade do |t|
    t.bigint :user_id, null: false # no index: a mistake
    t.references :workout, index: true
    t.integer :calories
    t.integer :avg_heart_rate
    t.timestamps
  end

  create_table :completed_exercises, force: :cascade do |t|
    t.references :completed_workout, index: true
    t.references :exercise, index: true
    t.integer :reps
    t.timestamps
  end

  create_table :diets, force: :cascade do |t|
    t.references :user, index: true
    t.string :name
    t.integer :calories
    t.text :allergies
    t.timestamps
  end

  create_table :notifications, force: :cascade do |t|
    t.references :user, index: true # redundant with the composite index below
    t.string :title
    t.datetime :read_at
    t.timestamps
  end
  add_index :notifications, %i[user_id created_at]

  # Written on every API request; nothing ever deletes from it.
  create_table :api_request_logs, force: :cascade do |t|
    t.bigint :user_id
    t.string :path, null: false
    t.integer :status
    t.float :duration_ms
    t.timestamps
  end

  create_table :body_measurements, force: :cascade do |t|
    t.references :user, index: true
    t.decimal :weight_kg, precision: 5, scale: 2
    t.decimal :body_fat_pct, precision: 4, scale: 1
    t.integer :resting_heart_rate
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
    t.string :kind
    t.integer :prompt_tokens
    t.integer :completion_tokens
    t.timestamps
  end
end
