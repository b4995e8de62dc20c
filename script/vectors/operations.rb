# frozen_string_literal: true

# The operations script/generate_vectors.rb runs through ActiveRecord. Each block runs twice
# (run 1 and run 2) inside a VectorGen::Context: `v(a, b)` gives a for run 1 and b for run 2;
# `uncaptured { }` is set-up whose SQL is not recorded. Both runs of an operation must send the
# same sequence of statement shapes, and no two operations may send the same shape, so that
# every group "<operation>:<n>" has one fingerprint and differs from every other group.
# Seed: users 1..12 (11 and 12 soft-deleted), teams 1..3, workouts 1..8, completed workouts
# 1..36 (user u owns 3u-2..3u), comments 1..16 (odd on workouts, even on completed workouts).

module VectorGen
  # --- finders -----------------------------------------------------------------------------
  op("find") { User.find(v(1, 2)) }
  op("find_multiple_ids") { Team.find(v([1, 2], [1, 2, 3])) }
  op("find_by") { User.find_by(email: v("athlete1@example.com", "athlete2@example.com")) }
  op("find_by_two_columns") { Workout.find_by(name: v("Workout 1", "Workout 2"), difficulty: v("intermediate", "advanced")) }
  op("find_by_bang_missing") do
    Exercise.find_by!(name: v("Nobody", "Ghost"))
  rescue ActiveRecord::RecordNotFound
    nil
  end
  op("first") { Workout.where(difficulty: v("beginner", "advanced")).first }
  op("last") { Diet.where(user_id: v(1, 2)).last }
  op("take") { Diet.where(calories: v(1800, 1850)).take }
  op("first_n") { Exercise.where(sets: v(3, 4)).order(reps: :desc).first(v(3, 5)) }
  op("find_or_create_by") { Team.find_or_create_by!(name: v("Cyclists", "Swimmers")) }
  op("find_or_initialize_by_existing") { Workout.find_or_initialize_by(name: v("Workout 3", "Workout 4")).new_record? }
  op("case_insensitive_find_by") { User.find_by("LOWER(email) = LOWER(?)", v("ATHLETE3@example.com", "Athlete4@Example.com")) }
  op("where_lower_email") { User.where("lower(email) = ?", v("athlete5@example.com", "athlete6@example.com")).to_a }
  op("arel_lower_eq") { Team.where(Team.arel_table[:name].lower.eq(v("runners", "yogis"))).to_a }

  # --- where -------------------------------------------------------------------------------
  op("where_hash") { User.where(name: v("Athlete 1", "Athlete 7"), birth_date: v(Date.new(1981, 2, 10), Date.new(1987, 8, 10))).to_a }
  op("where_not") { Workout.where.not(difficulty: v("beginner", "advanced")).to_a }
  op("where_not_nil") { User.where.not(deleted_at: nil).limit(v(5, 10)).to_a }
  op("where_nil_scope") { User.active.where(weight_kg: v(61, 65)..).to_a }
  op("where_boolean_like_string") { TeamMembership.where(role: v("coach", "member")).count }
  op("where_decimal") { CompletedExercise.where(weight: v(20.0, 25.5)).pluck(:id) }
  op("where_date") { User.where(birth_date: v(Date.new(1985, 1, 1), Date.new(1990, 6, 1))...).pluck(:email) }
  op("where_range_closed") { CompletedWorkout.where(completed_at: v(at(10), at(20))..v(at(2), at(5))).to_a }
  op("where_range_endless") { CompletedWorkout.where(completed_at: v(at(7), at(14))..).order(:completed_at).to_a }
  op("where_range_beginless") { Notification.where(created_at: ..v(at(15), at(25))).to_a }
  op("where_range_exclusive") { CompletedWorkout.where(calories: v(100...200, 150...300)).pluck(:id) }
  op("where_in_list") { Diet.where(id: v([1, 2], [3, 4, 5, 6])).to_a }
  op("where_in_strings") { User.where(email: v(%w[athlete1@example.com athlete2@example.com], %w[athlete3@example.com athlete4@example.com athlete5@example.com])).to_a }
  op("where_not_in_list") { Workout.where.not(id: v([1, 2], [3, 4, 5])).pluck(:name) }
  op("where_in_empty_or") { Exercise.where(id: []).or(Exercise.where(sets: v(3, 4))).pluck(:id) }
  op("where_in_sql_string") { CompletedWorkout.where("workout_id IN (?)", v([1], [3, 4, 5, 6])).count }
  op("where_or") { User.where(name: v("Athlete 1", "Athlete 2")).or(User.where(email: v("athlete3@example.com", "athlete4@example.com"))).to_a }
  op("where_or_ranges") { Diet.where(calories: ..v(1700, 1750)).or(Diet.where(calories: v(2200, 2300)..)).count }
  op("like_leading_wildcard") { User.where("email LIKE ?", v("%@example.com", "%5@example.com")).pluck(:id) }
  op("like_sanitized_prefix") { Workout.where("name LIKE ?", "#{Workout.sanitize_sql_like(v('Workout 1', 'Work_out'))}%").to_a }
  op("arel_matches") { User.where(User.arel_table[:name].matches(v("%lete 1%", "%lete 9"))).to_a }
  op("arel_gt_or") do
    t = CompletedWorkout.arel_table
    CompletedWorkout.where(t[:calories].gt(v(200, 250)).or(t[:duration].lt(v(25, 30)))).to_a
  end
  op("arel_select_manager") do
    u = User.arel_table
    query = u.project(u[:id], u[:email]).where(u[:created_at].gteq(v(at(110), at(105))).and(u[:deleted_at].eq(nil)))
             .order(u[:id].desc).take(v(3, 6))
    User.find_by_sql(query)
  end
  op("arel_join_manager") do
    u = User.arel_table
    cw = CompletedWorkout.arel_table
    query = u.project(u[:email], cw[:calories].sum.as("total"))
             .join(cw).on(cw[:user_id].eq(u[:id]))
             .where(cw[:completed_at].between(v(at(30), at(20))..v(at(1), at(3))))
             .group(u[:email])
    User.find_by_sql(query)
  end

  # --- near pairs: each differs from another operation by one token, so must not share its fingerprint
  op("pair_where_eq_single_id") { Diet.where(id: v(3, 4)).to_a }              # vs where_in_list: IN (...)
  op("pair_where_not_eq_single_id") { Workout.where.not(id: v(3, 4)).pluck(:name) } # vs where_not_in_list
  op("pair_where_is_null") { Notification.where(read_at: nil).count }          # vs where_time_with_usec: = ?
  op("pair_first_ascending") { Diet.where(user_id: v(3, 4)).first }            # vs last: ORDER BY id DESC
  op("pair_pagination_first_page") { Workout.order(created_at: :desc, id: :desc).limit(v(3, 4)).to_a } # vs pagination: OFFSET
  op("pair_count_distinct_column") { CompletedWorkout.where(completed_at: v(at(15), at(25))..).count(:user_id) } # vs count_distinct

  # --- literal forms: negative and float numbers, booleans, quotes, unicode, binary, NULL in lists
  op("where_negative_number") { Workout.where(duration_minutes: v(10, -1)..).pluck(:id) }
  op("where_float") { User.where("weight_kg > ?", v(70.5, 1.0e-5)).count }
  op("where_boolean") { Notification.where(push: v(true, false)).count }
  op("where_quoted_string") { User.where(name: v("O'Brien", "D'Arcy \\ Smith")).order(:email).to_a }
  op("where_string_with_sql_tokens") { Workout.where(name: v("what? -- not a comment", "/* no */ $1 :name ? ;")).count }
  op("where_unicode") { Team.where(name: v("Zoë's crew 💪", "Ünïcödé \\u0000-free")).pluck(:id) }
  op("where_time_with_usec") { Notification.where(read_at: v(at(1) + 0.123456, at(2))).count }
  op("where_binary") { Notification.where(payload_digest: v([1, 0, 255].pack("C*"), "\\'\x00\xab".b)).pluck(:id) }
  op("where_in_with_nil") { User.where(email: v(["athlete1@example.com", "athlete2@example.com", nil], ["athlete3@example.com", "athlete4@example.com", "athlete5@example.com", nil])).count }
  op("where_in_large_list") { CompletedWorkout.where(id: v((1..3).to_a, (1..40).to_a)).pluck(:calories) }
  op("select_string_literal") { User.where(id: v([1, 2], [3, 4, 5])).pluck(Arel.sql("COALESCE(name, 'anonymous')")) }
  op("order_case_sanitized") do
    order = Workout.sanitize_sql_for_order([Arel.sql("CASE WHEN difficulty = ? THEN 0 ELSE 1 END"), v("beginner", "advanced")])
    Workout.order(Arel.sql(order)).limit(v(3, 4)).pluck(:id)
  end
  op("order_by_id_list") do
    ids = v([3, 1], [5, 2, 4, 1])
    expr = if mysql? then "FIELD(id, #{ids.join(',')})"
           elsif pg? then "array_position(ARRAY[#{ids.join(',')}], id)"
           else "instr(',#{ids.join(',')},', ',' || id || ',')"
           end
    Workout.where(id: ids).order(Arel.sql(expr)).to_a
  end
  op("count_with_limit") { User.where.not(name: nil).limit(v(3, 5)).count }
  op("sum_expression") { CompletedWorkout.where(workout_id: v([1, 2], [3, 4, 5])).sum("calories * duration") }
  op("relative_interval") do
    cond = if pg? then ["completed_at > NOW() - INTERVAL '1 day' * ?", v(7, 30)]
           elsif mysql? then ["completed_at > NOW() - INTERVAL ? DAY", v(7, 30)]
           else ["completed_at > datetime('now', ?)", v("-7 days", "-30 days")]
           end
    CompletedWorkout.where(*cond).count
  end
  op("regex_match", only: %i[postgresql mysql]) { User.where(mysql? ? "name REGEXP ?" : "name ~* ?", v("^ath", "lete 1$")).count }

  # --- subqueries, CTEs, windows -----------------------------------------------------------
  op("where_in_subquery") { User.where(id: CompletedWorkout.where(workout_id: v([1, 2], [3, 4, 5])).select(:user_id)).to_a }
  op("where_not_in_subquery") { User.where.not(id: CompletedWorkout.where(calories: v(250, 275)..).select(:user_id)).pluck(:id) }
  op("where_exists_subquery") do
    recent = CompletedWorkout.where("completed_workouts.user_id = users.id").where(completed_at: v(at(3), at(6))..)
    User.where(recent.arel.exists).pluck(:name)
  end
  op("from_subquery_relation") do
    totals = CompletedWorkout.select("user_id, SUM(calories) AS total").where(duration: v(20, 25)..).group(:user_id)
    CompletedWorkout.unscoped.from(totals, :totals).where("totals.total > ?", v(300, 400)).pluck("totals.user_id")
  end
  op("cte_in_from") do
    sql = sanitize(<<~SQL.squish, v(at(20), at(10)), v(2, 1))
      (WITH active AS (SELECT user_id FROM completed_workouts WHERE completed_at >= ? GROUP BY user_id HAVING COUNT(*) >= ?)
      SELECT users.* FROM users INNER JOIN active ON active.user_id = users.id) AS users
    SQL
    User.from(sql).order(:id).to_a
  end
  op("cte_find_by_sql") do
    User.find_by_sql([<<~SQL, v(at(30), at(15)), v(400, 500)])
      -- weekly leaderboard; 'quotes' and /* in a line comment
      WITH recent AS (
        SELECT user_id, SUM(calories) AS total
        FROM completed_workouts
        WHERE completed_at > ?
        GROUP BY user_id
      )
      SELECT users.*, recent.total FROM users JOIN recent ON recent.user_id = users.id
      WHERE recent.total > ?
      ORDER BY recent.total DESC
    SQL
  end
  op("cte_recursive_select_all") do
    connection.select_all(sanitize("WITH RECURSIVE days(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM days WHERE n < ?) SELECT n FROM days",
                                   v(7, 14))).to_a
  end
  op("window_row_number") do
    CompletedWorkout.select("completed_workouts.*, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY completed_at DESC) AS rn")
                    .where(user_id: v([1, 2], [3, 4, 5])).to_a
  end
  op("window_top_n_from") do
    ranked = CompletedWorkout.select("completed_workouts.*, RANK() OVER (PARTITION BY workout_id ORDER BY calories DESC) AS calorie_rank")
                             .where(completed_at: v(at(40), at(30))..)
    CompletedWorkout.from(ranked, :completed_workouts).where("completed_workouts.calorie_rank <= ?", v(1, 3)).to_a
  end
  op("window_running_total_by_sql") do
    CompletedWorkout.find_by_sql([<<~SQL.squish, v(1, 2)])
      SELECT id, user_id, calories,
             SUM(calories) OVER (PARTITION BY user_id ORDER BY completed_at ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
      FROM completed_workouts WHERE user_id = ?
    SQL
  end
  op("union_find_by_sql") do
    User.find_by_sql(["SELECT users.* FROM users WHERE users.id IN (?) UNION SELECT users.* FROM users WHERE users.email LIKE ?",
                      v([1, 2], [3, 4, 5]), v("%7@example.com", "%8@example.com")])
  end

  # --- associations ------------------------------------------------------------------------
  op("preload") { User.where(id: v([1, 2], [3, 4, 5])).order(:id).preload(:completed_workouts).to_a }
  op("preload_nested") { Workout.where(id: v([1, 2], [3, 4, 5])).order(:id).preload(exercise_groups: :exercises).to_a }
  op("preload_through") { Team.where(id: v([1, 2], [1, 2, 3])).order(:id).preload(:users).to_a }
  op("includes_belongs_to") { CompletedExercise.includes(:exercise).where(completed_workout_id: v([1, 2], [3, 4, 5])).order(:id).to_a }
  op("eager_load") { User.eager_load(:diets).where(id: v([1, 2], [3, 4, 5])).order(:id).to_a }
  op("eager_load_limit") { Workout.eager_load(:exercise_groups).order(:id).limit(v(2, 3)).to_a }
  op("includes_references") do
    User.includes(:notifications).references(:notifications).where("notifications.created_at > ?", v(at(5), at(9))).order(:id).to_a
  end
  op("includes_where_association_hash") { Team.includes(:users).where(users: { name: v(["Athlete 1", "Athlete 2"], ["Athlete 3", "Athlete 4", "Athlete 5"]) }).to_a }
  op("has_many_through") do
    user = uncaptured { User.find(v(1, 2)) }
    user.workouts.to_a
  end
  op("has_many_through_nested") do
    user = uncaptured { User.find(v(3, 4)) }
    user.completed_exercises.where(reps: v(8, 9)).to_a
  end
  op("has_many_through_team_ordered") do
    team = uncaptured { Team.find(v(1, 2)) }
    team.users.order(:name).limit(v(3, 5)).to_a
  end
  op("has_many_with_scope_order") do
    workout = uncaptured { Workout.find(v(1, 2)) }
    workout.exercise_groups.to_a
  end
  op("has_many_count") do
    user = uncaptured { User.find(v(1, 2)) }
    user.completed_workouts.count
  end
  op("has_many_exists") do
    user = uncaptured { User.find(v(5, 6)) }
    user.diets.where("calories > ?", v(1500, 2500)).exists?
  end
  op("belongs_to") do
    ce = uncaptured { CompletedExercise.find(v(1, 2)) }
    ce.exercise
  end
  op("has_one") do
    user = uncaptured { User.find(v(1, 8)) }
    user.current_diet
  end
  op("polymorphic_has_many") do
    workout = uncaptured { Workout.find(v(1, 2)) }
    workout.comments.to_a
  end
  op("polymorphic_belongs_to") do
    comment = uncaptured { Comment.find(v(2, 4)) } # commentable: CompletedWorkout
    comment.commentable
  end
  op("polymorphic_preload") { Comment.where(id: v([1, 2, 3, 4], [5, 6, 7, 8, 9, 10])).order(:id).preload(:commentable).to_a }
  op("joins_nested_where") { CompletedExercise.joins(completed_workout: :user).where(users: { email: v("athlete1@example.com", "athlete2@example.com") }).to_a }
  op("left_joins_missing") { User.left_joins(:comments).where(comments: { id: nil }).where(birth_date: ..v(Date.new(1990, 1, 1), Date.new(1991, 1, 1))).pluck(:id) }
  op("joins_group_having") do
    User.joins(:completed_workouts).group("users.id").having("SUM(completed_workouts.calories) > ?", v(500, 600))
        .select("users.id, SUM(completed_workouts.calories) AS total").to_a
  end
  op("joins_distinct_count") { Team.joins(:users).where(users: { deleted_at: nil }).where("users.weight_kg > ?", v(62, 65)).distinct.count("users.id") }

  # --- batches -----------------------------------------------------------------------------
  # Exactly two batches in both runs (3 rows of 2, 5 rows of 3): first batch, then WHERE id > last.
  op("find_each") { Workout.where(id: v([1, 2, 3], [2, 3, 4, 5, 6])).find_each(batch_size: v(2, 3)) { |w| w } }
  op("in_batches_ids") { Notification.where(user_id: v([1, 2], [3, 4, 5])).in_batches(of: v(4, 5)) { |batch| batch } }
  # One batch only (fewer rows than the batch size): pluck ids, then UPDATE ... WHERE id IN (...).
  op("in_batches_update_all") { Diet.where(user_id: v([1, 2], [3, 4, 5])).in_batches(of: 10) { |batch| batch.update_all(calories: v(1900, 2000)) } }
  op("find_in_batches_start") { Exercise.where(sets: 3).find_in_batches(start: v(30, 29), batch_size: v(5, 10)) { |b| b } }

  # --- calculations ------------------------------------------------------------------------
  op("exists") { User.exists?(name: v("Athlete 1", "Nobody")) }
  op("exists_by_id") { Workout.exists?(v(1, 99)) }
  op("pluck") { User.where(id: v([1, 2], [3, 4, 5])).pluck(:email) }
  op("pluck_multiple") { CompletedWorkout.where(user_id: v(1, 2)).order(:completed_at).pluck(:id, :calories) }
  op("pick") { Diet.where(user_id: v(1, 2)).order(created_at: :desc).pick(:name) }
  op("ids") { Workout.where(difficulty: v("beginner", "advanced")).ids }
  op("count") { User.where(deleted_at: nil).where("birth_date < ?", v(Date.new(1986, 1, 1), Date.new(1990, 1, 1))).count }
  op("count_distinct") { CompletedWorkout.where(completed_at: v(at(15), at(25))..).distinct.count(:user_id) }
  op("sum") { CompletedWorkout.where(user_id: v(1, 2)).sum(:calories) }
  op("average") { CompletedWorkout.where(workout_id: v(1, 2)).average(:duration) }
  op("maximum") { CompletedWorkout.where(user_id: v([1, 2], [3, 4, 5])).maximum(:completed_at) }
  op("minimum") { Diet.where("name LIKE ?", v("Plan%", "Cut%")).minimum(:calories) }
  op("group_count") { CompletedWorkout.where(completed_at: v(at(10), at(20))..).group(:user_id).count }
  op("group_two_columns_count") { CompletedWorkout.where(calories: v(150, 175)..).group(:user_id, :workout_id).count }
  op("group_sum_order_limit") { CompletedWorkout.group(:workout_id).order(Arel.sql("SUM(calories) DESC")).limit(v(3, 5)).sum(:calories) }
  op("group_by_week") do
    week = if pg? then "date_trunc('week', completed_at)"
           elsif mysql? then "YEARWEEK(completed_at)"
           else "strftime('%Y-%W', completed_at)"
           end
    CompletedWorkout.where(user_id: v([1, 2], [3, 4, 5])).group(Arel.sql(week)).sum(:calories)
  end
  op("distinct_pluck") { CompletedWorkout.where(user_id: v([1, 2], [3, 4, 5])).distinct.pluck(:workout_id) }
  op("distinct_select") { Workout.joins(:completed_workouts).where(completed_workouts: { calories: v(200, 225).. }).distinct.to_a }
  op("pagination") { Workout.order(created_at: :desc, id: :desc).limit(v(3, 4)).offset(v(3, 8)).to_a }
  op("select_columns_order") { User.select(:id, :email).where(weight_kg: ..v(64, 70)).order(email: :desc).to_a }
  op("order_random") { Workout.order(Arel.sql(mysql? ? "RAND()" : "RANDOM()")).limit(v(2, 3)).to_a }
  op("association_reorder") do
    workout = uncaptured { Workout.find(v(3, 4)) }
    workout.exercise_groups.reorder(name: :desc).to_a
  end

  # --- annotations, hints, query-log comments ---------------------------------------------
  op("annotate") { Workout.annotate(v("controller:workouts,action:index", "controller:workouts,action:show,note:it's ? -- $1")).where(difficulty: v("beginner", "advanced")).limit(v(5, 10)).to_a }
  op("annotate_twice") { Diet.annotate("job:CustomHealthProgramJob").annotate(v("user:1", "user:2")).where(user_id: v(1, 2)).order(:name).to_a }
  op("optimizer_hints") do
    hint = if mysql? then v("MAX_EXECUTION_TIME(1000)", "MAX_EXECUTION_TIME(2500)")
           elsif pg? then v("SeqScan(users)", "IndexScan(users)")
           else v("no-op hint a", "no-op hint b")
           end
    User.optimizer_hints(hint).where(name: v("Athlete 1", "Athlete 2")).to_a
  end
  op("query_log_comments") do
    User.find_by_sql(["SELECT users.id, users.name FROM users WHERE users.email = ? /*application:VirtualTrainer,controller:users,action:#{v('show', 'edit')}*/",
                      v("athlete1@example.com", "athlete2@example.com")])
    Workout.find_by_sql(["SELECT workouts.* FROM workouts WHERE workouts.difficulty = ? " \
                         "/*action='#{v('index', 'show')}',application='VirtualTrainer',controller='workouts',framework='rails%3A6.1'*/",
                         v("beginner", "advanced")])
    Team.find_by_sql(["/*application:VirtualTrainer,controller:#{v('teams', 'dashboard')}*/ SELECT COUNT(*) AS n FROM teams WHERE teams.name = ?",
                      v("Runners", "Yogis")])
  end

  # --- locks -------------------------------------------------------------------------------
  op("lock_for_update") { User.transaction { User.lock.where(email: v("athlete1@example.com", "athlete2@example.com")).to_a } }
  op("lock_skip_locked", only: %i[postgresql mysql]) do
    Notification.transaction { Notification.unread.lock("FOR UPDATE SKIP LOCKED").order(:id).limit(v(2, 5)).to_a }
  end
  op("lock_bang") do
    plan = uncaptured { WorkoutPlan.find(v(1, 2)) }
    WorkoutPlan.transaction { plan.lock! }
  end

  # --- writes ------------------------------------------------------------------------------
  op("create_with_uniqueness_check") { User.create!(email: v("new1@example.com", "new2@example.com"), name: v("New One", "New Two"), birth_date: v(Date.new(1990, 1, 1), Date.new(1991, 2, 2))) }
  op("create_belongs_to") do
    user = uncaptured { User.find(v(3, 4)) }
    Diet.create!(user: user, name: v("Bulk", "Maintain"), calories: v(2800, 2400))
  end
  op("update") do
    user = uncaptured { User.find(v(5, 6)) }
    user.update!(name: v("Renamed Five", "Renamed Six"), weight_kg: v(70.5, 71.25))
  end
  op("update_columns") do
    group = uncaptured { ExerciseGroup.find(v(3, 4)) }
    group.update_columns(name: v("Warm-up", "Cool-down"))
  end
  op("touch") do
    membership = uncaptured { TeamMembership.find(v(1, 2)) }
    membership.touch
  end
  op("increment_bang") do
    exercise = uncaptured { Exercise.find(v(1, 2)) }
    exercise.increment!(:sets, v(1, 2))
  end
  op("destroy") do
    notification = uncaptured { Notification.find(v(1, 2)) }
    notification.destroy!
  end
  op("destroy_with_dependents") do
    user = uncaptured do
      u = User.create!(email: v("leaver1@example.com", "leaver2@example.com"), name: "Leaver")
      TeamMembership.create!(user: u, team: Team.find(v(1, 2)))
      cw = CompletedWorkout.create!(user: u, workout: Workout.find(v(1, 2)), calories: 100, duration: 10, completed_at: at(1))
      CompletedExercise.create!(completed_workout: cw, exercise: Exercise.find(v(1, 2)), reps: 5, weight: 10)
      Diet.create!(user: u, name: "Gone", calories: 1000)
      Notification.create!(user: u, kind: "bye")
      u.reload
    end
    user.destroy!
  end
  op("update_all") { Notification.where(user_id: v([1, 2], [3, 4, 5]), read_at: nil).update_all(read_at: v(at(1), at(2))) }
  op("update_all_expression") { CompletedWorkout.where(id: v([1, 2], [3, 4, 5])).update_all(["calories = calories + ?", v(10, 20)]) }
  op("update_all_joins") { CompletedExercise.joins(:completed_workout).where(completed_workouts: { user_id: v(1, 2) }).update_all(reps: v(12, 15)) }
  op("delete_all") { Notification.where(kind: v("streak", "reminder")).where("created_at < ?", v(at(11), at(21))).delete_all }
  op("delete_by") { Comment.delete_by(user_id: v(1, 2), commentable_type: "Workout") }
  op("insert_all") do
    rows = v(2, 3).times.map { |i| { user_id: i + 1, kind: v("digest", "weekly"), payload: "{}", created_at: T0, updated_at: T0 } }
    Notification.insert_all(rows)
  end
  op("insert_all_nulls_booleans_binary") do
    rows = v(2, 3).times.map do |i|
      { user_id: i + 4, kind: v("sync", "export"), payload: i.even? ? nil : "{\"it's\": 1}", push: i.odd?,
        payload_digest: [i, 39, 92, 0].pack("C*"), read_at: i.zero? ? nil : T0, created_at: T0, updated_at: T0 }
    end
    Notification.insert_all!(rows)
  end
  op("insert_all_bang") do
    rows = v(2, 4).times.map { |i| { workout_id: i + 1, name: "Extra #{v('a', 'b')}#{i}", position: 9, created_at: T0, updated_at: T0 } }
    ExerciseGroup.insert_all!(rows)
  end
  op("insert_all_returning", only: :postgresql) do
    rows = v(2, 3).times.map { |i| { name: "Squad #{v('a', 'b')}#{i}", created_at: T0, updated_at: T0 } }
    Team.insert_all(rows, returning: %w[id name])
  end
  op("upsert_all") do
    rows = v(2, 3).times.map do |i|
      { email: "athlete#{i + 1}@example.com", name: "Upserted #{v('a', 'b')}#{i}", created_at: T0, updated_at: T0 }
    end
    options = ActiveRecord::Base.connection.supports_insert_conflict_target? ? { unique_by: :email } : {}
    User.upsert_all(rows, **options)
  end
  op("upsert_all_composite_key") do
    rows = v(2, 3).times.map { |i| { user_id: i + 1, team_id: 3, role: v("captain", "coach"), created_at: T0, updated_at: T0 } }
    options = ActiveRecord::Base.connection.supports_insert_conflict_target? ? { unique_by: %i[user_id team_id] } : {}
    TeamMembership.upsert_all(rows, **options)
  end
  op("transaction_savepoint_rollback", keep_transactions: true) do
    Workout.transaction do
      Workout.where(id: v(1, 2)).update_all(duration_minutes: v(41, 42))
      Workout.transaction(requires_new: true) do
        Exercise.where(id: v([1, 2], [3, 4, 5])).update_all(reps: v(11, 12))
        raise ActiveRecord::Rollback
      end
    end
  end

  # --- JSON and arrays ---------------------------------------------------------------------
  op("jsonb_contains", only: :postgresql) { WorkoutPlan.where("settings @> ?", { level: v("beginner", "advanced") }.to_json).pluck(:id) }
  op("jsonb_contains_nested", only: :postgresql) { WorkoutPlan.where("settings @> ?::jsonb", { equipment: v(["mat"], %w[band kettlebell]) }.to_json).count }
  op("jsonb_field_text", only: :postgresql) { WorkoutPlan.where("settings ->> 'goal' = ?", v("strength", "mobility")).to_a }
  op("jsonb_field_cast", only: :postgresql) { WorkoutPlan.where("(settings ->> 'sessions_per_week')::int >= ?", v(3, 4)).pluck(:user_id) }
  op("jsonb_path_text", only: :postgresql) { WorkoutPlan.where("settings #>> '{equipment,0}' = ?", v("mat", "band")).count }
  op("jsonb_key_exists", only: :postgresql) { WorkoutPlan.where("settings ? :key", key: v("goal", "level")).where(user_id: v([1, 2], [3, 4, 5])).count }
  op("jsonb_any_key_exists", only: :postgresql) { WorkoutPlan.where("settings ?| array[:keys]", keys: v(%w[goal diet], %w[level coach notes])).count }
  op("jsonb_select_field", only: :postgresql) { WorkoutPlan.where(user_id: v(1, 2)).pluck(Arel.sql("settings -> 'equipment'"), Arel.sql("settings ->> 'level'")) }
  op("array_overlap", only: :postgresql) { WorkoutPlan.where("tag_ids && ARRAY[?]::integer[]", v([1, 2], [3, 4, 10])).to_a }
  op("array_contains", only: :postgresql) { WorkoutPlan.where("tag_ids @> ARRAY[?]::integer[]", v([1], [0, 10])).count }
  op("array_any", only: :postgresql) { WorkoutPlan.where("? = ANY(tag_ids)", v(3, 11)).pluck(:id) }
  op("array_length_unnest", only: :postgresql) { WorkoutPlan.where("cardinality(tag_ids) >= ?", v(2, 3)).pluck(Arel.sql("unnest(tag_ids)")) }
  op("jsonb_array_create", only: :postgresql) do
    user = uncaptured { User.find(v(11, 12)) }
    uncaptured { user.workout_plan&.delete }
    WorkoutPlan.create!(user: user, settings: { level: v("beginner", "advanced"), equipment: v(["mat"], %w[band rope]) }, tag_ids: v([1, 2], [3, 4, 5]))
  end
  op("jsonb_all_keys_exist", only: :postgresql) { WorkoutPlan.where("settings ?& array[:keys]", keys: v(%w[goal level], %w[goal level equipment])).pluck(:id) }
  op("ilike_any_array", only: :postgresql) { User.where("email ILIKE ANY (array[?])", v(%w[%1@% %2@%], %w[%3@% %4@% %5@%])).count }
  op("aggregate_filter", only: :postgresql) do
    CompletedWorkout.group(:user_id).pluck(:user_id, Arel.sql(CompletedWorkout.sanitize_sql_array(["COUNT(*) FILTER (WHERE calories > ?)", v(200, 250)])))
  end
  op("distinct_on", only: :postgresql) do
    CompletedWorkout.select("DISTINCT ON (user_id) completed_workouts.*").where(user_id: v([1, 2], [3, 4, 5])).order(:user_id, completed_at: :desc).to_a
  end
  op("lateral_join", only: :postgresql) do
    User.find_by_sql([<<~SQL.squish, v([1, 2], [3, 4, 5]), v(2, 3)])
      SELECT users.id, recent.calories FROM users
      CROSS JOIN LATERAL (SELECT calories FROM completed_workouts cw WHERE cw.user_id = users.id ORDER BY cw.completed_at DESC LIMIT 1) recent
      WHERE users.id IN (?) AND recent.calories > ? * 50
    SQL
  end
  op("jsonb_update_set", only: :postgresql) { WorkoutPlan.where(id: v(1, 2)).update_all(["settings = jsonb_set(settings, '{level}', to_jsonb(?::text))", v("advanced", "beginner")]) }
  op("json_extract", only: %i[mysql sqlite]) do
    expr = mysql? ? "JSON_UNQUOTE(JSON_EXTRACT(settings, '$.level'))" : "json_extract(settings, '$.level')"
    WorkoutPlan.where("#{expr} = ?", v("beginner", "advanced")).pluck(:id)
  end
  op("json_contains", only: :mysql) { WorkoutPlan.where("JSON_CONTAINS(settings, ?, '$.equipment')", v("mat", "band").to_json).count }
  op("json_arrow_operator", only: :sqlite) { WorkoutPlan.where("settings ->> '$.goal' = ?", v("strength", "mobility")).count }
  op("json_each_exists", only: :sqlite) do
    WorkoutPlan.where("EXISTS (SELECT 1 FROM json_each(workout_plans.settings, '$.equipment') WHERE json_each.value = ?)", v("mat", "band")).count
  end
end
