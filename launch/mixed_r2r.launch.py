"""ROS 2 launch file: a mixed graph on rmw_shm_rs, rclpy and r2r (Rust) nodes on one topic.

    r2r_talker     (Rust, r2r 0.9.7) publishes std_msgs/String on /chatter
    r2r_listener   (Rust) prints what it hears on /chatter
    rclpy_chatter  (Python) publishes "rclpy chatter: N" on /chatter and prints what the others
                   publish ("heard: '...'")
    listener       (Python) prints everything on /chatter ("I heard: '...'")

so every message crosses the language boundary in both directions over shared memory.

    ros2 launch rmw_shm_rs mixed_r2r.launch.py r2r_bin_dir:=<dir>       (installed package)
    ros2 launch launch/mixed_r2r.launch.py                              (from a source checkout)

Build the Rust nodes first: scripts/build_r2r.sh (it prints their directory; in a checkout that is
examples/r2r_demo/target/release, the default here). Arguments: rmw_implementation (default
rmw_shm_rs), r2r_bin_dir, period (seconds between two rclpy messages, default 0.5).
"""

import os
import sys

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution

HERE = os.path.dirname(os.path.abspath(__file__))


def _nodes_dir():
    candidates = [
        os.path.join(HERE, '..', 'test', 'nodes'),  # source checkout: launch/ next to test/
        os.path.join(HERE, '..', 'nodes'),  # installed: share/rmw_shm_rs/{launch,nodes}
    ]
    for candidate in candidates:
        if os.path.isfile(os.path.join(candidate, 'demo_chatter.py')):
            return os.path.normpath(candidate)
    raise RuntimeError('demo_chatter.py not found in any of: ' + ', '.join(candidates))


def _default_r2r_dir():
    return os.environ.get('R2R_DEMO_BIN_DIR') or os.path.normpath(
        os.path.join(HERE, '..', 'examples', 'r2r_demo', 'target', 'release'))


def generate_launch_description():
    nodes = _nodes_dir()
    bin_dir = LaunchConfiguration('r2r_bin_dir')
    return LaunchDescription([
        DeclareLaunchArgument(
            'rmw_implementation', default_value='rmw_shm_rs',
            description='RMW implementation for every node'),
        DeclareLaunchArgument(
            'r2r_bin_dir', default_value=_default_r2r_dir(),
            description='directory of r2r_talker and r2r_listener (scripts/build_r2r.sh)'),
        DeclareLaunchArgument('period', default_value='0.5',
                              description='seconds between two rclpy messages'),
        SetEnvironmentVariable('RMW_IMPLEMENTATION', LaunchConfiguration('rmw_implementation')),
        ExecuteProcess(name='r2r_listener', output='screen',
                       cmd=[PathJoinSubstitution([bin_dir, 'r2r_listener'])]),
        ExecuteProcess(name='listener', output='screen',
                       cmd=[sys.executable, '-u', os.path.join(nodes, 'listener.py'),
                            '--topic', '/chatter']),
        ExecuteProcess(name='rclpy_chatter', output='screen',
                       cmd=[sys.executable, '-u', os.path.join(nodes, 'demo_chatter.py'),
                            '--topic', '/chatter', '--period', LaunchConfiguration('period')]),
        ExecuteProcess(name='r2r_talker', output='screen',
                       cmd=[PathJoinSubstitution([bin_dir, 'r2r_talker'])]),
    ])
