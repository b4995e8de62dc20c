# frozen_string_literal: true

# Three teams of eight athletes, each with ten workouts of three groups of
# three exercises, forty completed workouts with their exercises, notes,
# measurements, and months of API request logs. Deterministic.
random = Random.new(2026)
now = Time.now.utc
stamp = ->(at) { { created_at: at, updated_at: at } }

Team.insert_all(Array.new(3) { |t| { name: "Team #{t + 1}" }.merge(stamp.call(now)) })
teams = Team.order(:id).pluck(:id)
User.insert_all(Array.new(24) do |u|
  { team_id: teams[u % 3], email: "athlete#{u + 1}@example.com", name: "Athlete #{u + 1}",
    phone: "+1555#{format('%07d', u)}", birth_date: Date.new(1980 + (u % 20), 1 + (u % 12), 1 + u),
    last_sign_in_ip: "10.0.#{u / 250}.#{u % 250}" }.merge(stamp.call(now - (400 * 86_400)))
end)
users = User.order(:id).pluck(:id)

Workout.insert_all(users.flat_map do |user|
  Array.new(10) { |w| { user_id: user, title: %w[Push Pull Legs Core Cardio][w % 5] + " #{w + 1}", duration_minutes: 30 + (5 * (w % 4)) }.merge(stamp.call(now)) }
end)
workouts = Workout.order(:id).pluck(:id, :user_id)
ExerciseGroup.insert_all(workouts.flat_map do |(workout, _)|
  Array.new(3) { |g| { workout_id: workout, name: %w[Warm-up Main Finisher][g], position: g }.merge(stamp.call(now)) }
end)
ExerciseGroup.order(:id).pluck(:id).each_slice(500) do |groups|
  Exercise.insert_all(groups.flat_map do |group|
    Array.new(3) { |e| { exercise_group_id: group, name: %w[squat lunge plank push_up row burpee][(group + e) % 6], reps: 8 + e }.merge(stamp.call(now)) }
  end)
end

exercises_of = Exercise.joins(:exercise_group).pluck("exercise_groups.workout_id", "exercises.id")
                       .group_by(&:first).transform_values { |pairs| pairs.map(&:last) }
workouts_of = workouts.group_by(&:last).transform_values { |pairs| pairs.map(&:first) }
CompletedWorkout.insert_all(users.flat_map do |user|
  Array.new(40) do |c|
    { user_id: user, workout_id: workouts_of[user][c % 10], calories: 250 + random.rand(300),
      avg_heart_rate: 120 + random.rand(40) }.merge(stamp.call(now - (c * 86_400) - random.rand(3600)))
  end
end)
CompletedWorkout.order(:id).pluck(:id, :workout_id).each_slice(300) do |slice|
  CompletedExercise.insert_all(slice.flat_map do |(done, workout)|
    exercises_of[workout].first(4).map { |exercise| { completed_workout_id: done, exercise_id: exercise, reps: 10 }.merge(stamp.call(now)) }
  end)
end

Notification.insert_all(users.flat_map do |user|
  Array.new(30) { |n| { user_id: user, title: "Reminder #{n + 1}", read_at: n.even? ? now : nil }.merge(stamp.call(now - (n * 3 * 86_400))) }
end)
Diet.insert_all(users.flat_map do |user|
  Array.new(2) { |d| { user_id: user, name: "Plan #{d + 1}", calories: 2000 + (250 * d), allergies: d.zero? ? "peanuts" : nil }.merge(stamp.call(now)) }
end)
BodyMeasurement.insert_all(users.flat_map do |user|
  Array.new(20) { |m| { user_id: user, weight_kg: 60 + random.rand(40), body_fat_pct: 12 + random.rand(18), resting_heart_rate: 50 + random.rand(25) }.merge(stamp.call(now - (m * 7 * 86_400))) }
end)
Injury.insert_all(users.each_slice(3).map(&:first).map { |user| { user_id: user, body_part: "knee", description: "strain" }.merge(stamp.call(now)) })
(0...6000).each_slice(2000) do |slice|
  ApiRequestLog.insert_all(slice.map do |i|
    { user_id: users[i % users.size], path: "/api/v1/workouts", status: 200, duration_ms: 20 + (i % 50) }
      .merge(stamp.call(now - ((i / 30) * 3600)))
  end)
end
