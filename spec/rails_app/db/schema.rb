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
end
