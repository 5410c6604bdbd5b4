"""ROS 2 launch file: an image pipeline on rmw_shm_rs, three rclpy processes.

    camera     publishes a 1920x1080 rgb8 sensor_msgs/Image (6.2 MB) at 30 Hz on camera/image_raw,
               header.stamp = the time it was sent
    processor  halves it (every other row and column: 960x540) and republishes it, same header,
               on camera/image_half
    consumer   prints once a second the rate and the latency from the camera's stamp:
               "consumer: STATS frames=.. rate=29.9 latency_ms=.. max_ms=.. size=960x540"

    ros2 launch rmw_shm_rs image_pipeline.launch.py             (installed package)
    ros2 launch launch/image_pipeline.launch.py                 (from a source checkout)

Arguments: rmw_implementation (default rmw_shm_rs), width, height, rate (Hz), depth (KEEP_LAST depth
of the image topics). The nodes are test/nodes/demo_{camera,processor,consumer}.py (installed to
share/rmw_shm_rs/nodes). With the PyPI wheels (no `launch`) start the same scripts by hand: see
docs/demos.md.
"""

import os
import sys

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration


def _nodes_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [
        os.path.join(here, '..', 'test', 'nodes'),  # source checkout: launch/ next to test/
        os.path.join(here, '..', 'nodes'),  # installed: share/rmw_shm_rs/{launch,nodes}
    ]
    for candidate in candidates:
        if os.path.isfile(os.path.join(candidate, 'demo_camera.py')):
            return os.path.normpath(candidate)
    raise RuntimeError('demo_camera.py not found in any of: ' + ', '.join(candidates))


def generate_launch_description():
    nodes = _nodes_dir()
    depth = LaunchConfiguration('depth')
    raw, half = 'camera/image_raw', 'camera/image_half'

    def node(name, script, *args):
        return ExecuteProcess(name=name, output='screen',
                              cmd=[sys.executable, '-u', os.path.join(nodes, script), *args])

    return LaunchDescription([
        DeclareLaunchArgument(
            'rmw_implementation', default_value='rmw_shm_rs',
            description='RMW implementation for every node'),
        DeclareLaunchArgument('width', default_value='1920', description='image width (pixels)'),
        DeclareLaunchArgument('height', default_value='1080', description='image height (pixels)'),
        DeclareLaunchArgument('rate', default_value='30.0', description='camera frames per second'),
        DeclareLaunchArgument('depth', default_value='2',
                              description='KEEP_LAST depth of the image topics (RELIABLE)'),
        SetEnvironmentVariable('RMW_IMPLEMENTATION', LaunchConfiguration('rmw_implementation')),
        node('consumer', 'demo_consumer.py', '--topic', half, '--depth', depth),
        node('processor', 'demo_processor.py', '--input', raw, '--output', half, '--depth', depth),
        node('camera', 'demo_camera.py', '--topic', raw, '--depth', depth,
             '--width', LaunchConfiguration('width'), '--height', LaunchConfiguration('height'),
             '--rate', LaunchConfiguration('rate'), '--wait-match', '30'),
    ])
