package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	sigsyaml "sigs.k8s.io/yaml"
)

// k8sSet is every object under deploy/kubernetes/, each decoded strictly
// into its API type.
type k8sSet struct {
	deployments   map[string]*appsv1.Deployment
	services      map[string]*corev1.Service
	configMaps    map[string]*corev1.ConfigMap
	secrets       map[string]*corev1.Secret
	namespaces    []*corev1.Namespace
	pdbs          []*policyv1.PodDisruptionBudget
	hpas          []*autoscalingv2.HorizontalPodAutoscaler
	scaledObjects []*scaledObject
	kustomization *kustomization
	adapter       *adapterValues
	baseDocs      map[string]int // file of the base directory -> documents in it
}

// kustomization is kustomize's file, decoded strictly.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// scaledObject is the part of KEDA's ScaledObject (a custom resource, so
// no Go type here) the example uses, decoded strictly.
type scaledObject struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		MinReplicaCount *int32 `json:"minReplicaCount"`
		MaxReplicaCount *int32 `json:"maxReplicaCount"`
		PollingInterval *int32 `json:"pollingInterval"`
		CooldownPeriod  *int32 `json:"cooldownPeriod"`
		Triggers        []struct {
			Type       string            `json:"type"`
			MetricType string            `json:"metricType"`
			Metadata   map[string]string `json:"metadata"`
		} `json:"triggers"`
	} `json:"spec"`
}

// adapterValues is the external-metrics part of prometheus-adapter's Helm
// values.
type adapterValues struct {
	Rules struct {
		External []struct {
			SeriesQuery string `yaml:"seriesQuery"`
			Resources   struct {
				Overrides map[string]struct {
					Resource string `yaml:"resource"`
				} `yaml:"overrides"`
			} `yaml:"resources"`
			Name struct {
				As string `yaml:"as"`
			} `yaml:"name"`
			MetricsQuery string `yaml:"metricsQuery"`
		} `yaml:"external"`
	} `yaml:"rules"`
}

const k8sDir = "kubernetes"

var (
	k8sOnce sync.Once
	k8sObjs *k8sSet
)

func k8sObjects(t *testing.T) *k8sSet {
	k8sOnce.Do(func() { k8sObjs = loadK8s(t) })
	require.NotNil(t, k8sObjs)
	return k8sObjs
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

func loadK8s(t *testing.T) *k8sSet {
	s := &k8sSet{deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}, baseDocs: map[string]int{}}
	err := filepath.WalkDir(k8sDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		require.True(t, strings.HasSuffix(p, ".yaml"), "%s: only .yaml files in %s", p, k8sDir)
		rel, _ := filepath.Rel(k8sDir, p)
		if d.Name() == "prometheus-adapter-values.yaml" {
			s.adapter = &adapterValues{}
			decodeStrict(t, p, s.adapter)
			return nil
		}
		for _, doc := range docSep.Split(string(readFile(t, p)), -1) {
			if !hasContent(doc) {
				continue
			}
			s.add(t, p, []byte(doc))
			if !strings.Contains(rel, "/") && d.Name() != "kustomization.yaml" {
				s.baseDocs[rel]++
			}
		}
		return nil
	})
	require.NoError(t, err)
	return s
}

// hasContent reports whether a YAML document has more than comments.
func hasContent(doc string) bool {
	for _, l := range strings.Split(doc, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			return true
		}
	}
	return false
}

// add decodes one document strictly into the type its apiVersion and kind
// name; any other kind fails.
func (s *k8sSet) add(t *testing.T, file string, doc []byte) {
	var tm metav1.TypeMeta
	require.NoError(t, sigsyaml.Unmarshal(doc, &tm), file)
	where := file + ": " + tm.APIVersion + " " + tm.Kind
	strict := func(v any) { require.NoError(t, sigsyaml.UnmarshalStrict(doc, v), where) }
	switch tm.APIVersion + " " + tm.Kind {
	case "apps/v1 Deployment":
		o := &appsv1.Deployment{}
		strict(o)
		s.deployments[o.Name] = o
	case "v1 Service":
		o := &corev1.Service{}
		strict(o)
		s.services[o.Name] = o
	case "v1 ConfigMap":
		o := &corev1.ConfigMap{}
		strict(o)
		s.configMaps[o.Name] = o
	case "v1 Secret":
		o := &corev1.Secret{}
		strict(o)
		s.secrets[o.Name] = o
	case "v1 Namespace":
		o := &corev1.Namespace{}
		strict(o)
		s.namespaces = append(s.namespaces, o)
	case "policy/v1 PodDisruptionBudget":
		o := &policyv1.PodDisruptionBudget{}
		strict(o)
		s.pdbs = append(s.pdbs, o)
	case "autoscaling/v2 HorizontalPodAutoscaler":
		o := &autoscalingv2.HorizontalPodAutoscaler{}
		strict(o)
		s.hpas = append(s.hpas, o)
	case "keda.sh/v1alpha1 ScaledObject":
		o := &scaledObject{}
		strict(o)
		s.scaledObjects = append(s.scaledObjects, o)
	case "kustomize.config.k8s.io/v1beta1 Kustomization":
		o := &kustomization{}
		strict(o)
		s.kustomization = o
	default:
		require.Failf(t, "unexpected object", "%s: no check for this kind", where)
	}
}

func (s *k8sSet) deployment(t *testing.T, name string) *appsv1.Deployment {
	return lookup(t, s.deployments, "Deployment", name)
}

func (s *k8sSet) service(t *testing.T, name string) *corev1.Service {
	return lookup(t, s.services, "Service", name)
}

func (s *k8sSet) configMap(t *testing.T, name string) *corev1.ConfigMap {
	return lookup(t, s.configMaps, "ConfigMap", name)
}

func (s *k8sSet) secret(t *testing.T, name string) *corev1.Secret {
	return lookup(t, s.secrets, "Secret", name)
}

// lookup returns the object of a kind by name, failing the test if the
// manifests have none.
func lookup[T any](t *testing.T, objects map[string]*T, kind, name string) *T {
	t.Helper()
	o, ok := objects[name]
	require.True(t, ok, "kubernetes: no %s %s", kind, name)
	return o
}

// k8sNamespace is the namespace kustomize puts everything in.
func k8sNamespace(t *testing.T) string {
	k := k8sObjects(t).kustomization
	require.NotNil(t, k, "kubernetes: no kustomization.yaml")
	return k.Namespace
}

// podLabelsMatch checks that a selector selects a Deployment's pods.
func podLabelsMatch(t *testing.T, where string, sel *metav1.LabelSelector, d *appsv1.Deployment) {
	t.Helper()
	require.NotNil(t, sel, "%s: no selector", where)
	s, err := metav1.LabelSelectorAsSelector(sel)
	require.NoError(t, err, where)
	require.False(t, s.Empty(), "%s: an empty selector selects everything", where)
	require.True(t, s.Matches(labels.Set(d.Spec.Template.Labels)), "%s: selector %s does not select the pods of %s", where, s, d.Name)
}

// containerEnv resolves a container's environment: values, Secret and
// ConfigMap keys (which must exist), and envFrom ConfigMaps.
func containerEnv(t *testing.T, where string, c corev1.Container) map[string]string {
	t.Helper()
	s := k8sObjects(t)
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		require.NotNil(t, from.ConfigMapRef, "%s: envFrom only from ConfigMaps", where)
		for k, v := range s.configMap(t, from.ConfigMapRef.Name).Data {
			env[k] = v
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			v, ok := s.secret(t, ref.Name).StringData[ref.Key]
			require.True(t, ok, "%s: %s from Secret %s key %s, which it lacks", where, e.Name, ref.Name, ref.Key)
			env[e.Name] = v
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			v, ok := s.configMap(t, ref.Name).Data[ref.Key]
			require.True(t, ok, "%s: %s from ConfigMap %s key %s, which it lacks", where, e.Name, ref.Name, ref.Key)
			env[e.Name] = v
		default:
			require.Failf(t, "unexpected valueFrom", "%s: %s", where, e.Name)
		}
	}
	return env
}

// containerPort resolves a probe or Service port (number or name).
func containerPort(t *testing.T, where string, c corev1.Container, port string) string {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == port || itoa(p.ContainerPort) == port {
			return itoa(p.ContainerPort)
		}
	}
	require.Failf(t, "unknown port", "%s: container %s has no port %s", where, c.Name, port)
	return ""
}

// mountedFiles maps each file path a container sees from a ConfigMap or
// Secret volume to "configmap/NAME/KEY" or "secret/NAME/KEY", and each
// emptyDir mount path to "emptydir/VOLUME".
func mountedFiles(t *testing.T, where string, pod corev1.PodSpec, c corev1.Container) map[string]string {
	t.Helper()
	s := k8sObjects(t)
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	out := map[string]string{}
	for _, m := range c.VolumeMounts {
		v, ok := vols[m.Name]
		require.True(t, ok, "%s: mounts volume %s, which the pod lacks", where, m.Name)
		switch {
		case v.ConfigMap != nil:
			cm := s.configMap(t, v.ConfigMap.Name)
			for _, it := range v.ConfigMap.Items {
				_, ok := cm.Data[it.Key]
				require.True(t, ok, "%s: ConfigMap %s has no key %s", where, cm.Name, it.Key)
				out[m.MountPath+"/"+it.Path] = "configmap/" + cm.Name + "/" + it.Key
			}
		case v.Secret != nil:
			for k := range s.secret(t, v.Secret.SecretName).StringData {
				out[m.MountPath+"/"+k] = "secret/" + v.Secret.SecretName + "/" + k
			}
		case v.EmptyDir != nil:
			out[m.MountPath] = "emptydir/" + v.Name
		default:
			require.Failf(t, "unexpected volume", "%s: volume %s", where, v.Name)
		}
	}
	return out
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// checkHardened checks what Pod Security "restricted" asks of a container.
func checkHardened(t *testing.T, where string, c corev1.Container) {
	t.Helper()
	sc := c.SecurityContext
	require.NotNil(t, sc, "%s: no securityContext", where)
	require.NotNil(t, sc.AllowPrivilegeEscalation)
	require.False(t, *sc.AllowPrivilegeEscalation, "%s: allowPrivilegeEscalation", where)
	require.NotNil(t, sc.ReadOnlyRootFilesystem)
	require.True(t, *sc.ReadOnlyRootFilesystem, "%s: readOnlyRootFilesystem", where)
	require.NotNil(t, sc.Capabilities)
	require.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop, "%s: capabilities", where)
	require.False(t, c.Resources.Requests.Cpu().IsZero(), "%s: cpu request", where)
	require.False(t, c.Resources.Requests.Memory().IsZero(), "%s: memory request", where)
	require.False(t, c.Resources.Limits.Memory().IsZero(), "%s: memory limit", where)
}

func TestKubernetesDeployments(t *testing.T) {
	s := k8sObjects(t)
	d := parseDockerfile(t)
	for _, name := range []string{"wxacode-worker", "wxacode-scheduler", "wxacode-dashboard"} {
		dep := s.deployment(t, name)
		where := "kubernetes " + name
		podLabelsMatch(t, where, dep.Spec.Selector, dep)
		pod := dep.Spec.Template.Spec
		psc := pod.SecurityContext
		require.NotNil(t, psc, where)
		require.True(t, psc.RunAsNonRoot != nil && *psc.RunAsNonRoot, "%s: runAsNonRoot", where)
		require.NotNil(t, psc.RunAsUser)
		require.Equal(t, d.imageUID(t), *psc.RunAsUser, "%s: runs as the image's user", where)
		require.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, psc.SeccompProfile.Type, where)
		require.NotNil(t, pod.AutomountServiceAccountToken)
		require.False(t, *pod.AutomountServiceAccountToken, "%s: needs no API access", where)
		for _, c := range pod.InitContainers {
			checkHardened(t, where+" init "+c.Name, c)
		}
		require.Len(t, pod.Containers, 1, where)
		checkWxacodeContainer(t, where, dep, pod.Containers[0])
	}
	require.Equal(t, int32(1), *s.deployment(t, "wxacode-scheduler").Spec.Replicas, "one scheduler")
}

// checkWxacodeContainer checks a container of the wxacode image: command,
// flags and variables, ports and probes, files, hardening.
func checkWxacodeContainer(t *testing.T, where string, dep *appsv1.Deployment, c corev1.Container) {
	t.Helper()
	where += " container " + c.Name
	require.Equal(t, imageRef(t), c.Image, "%s: image", where)
	require.Empty(t, c.Command, "%s: the image's entrypoint is wxacode", where)
	cmd := checkArgv(t, where, c.Args)
	env := containerEnv(t, where, c)
	checkEnv(t, where, env, cmd)
	checkHardened(t, where, c)

	listen := listenAddr(t, c.Args, env)
	require.NotEmpty(t, listen, "%s: serves nothing to probe", where)
	port := portOf(t, listen)
	require.Len(t, c.Ports, 1, where)
	require.Equal(t, port, itoa(c.Ports[0].ContainerPort), "%s: containerPort is the port it listens on", where)
	for probe, path := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz"} {
		require.NotNil(t, probe, "%s: %s probe", where, path)
		require.NotNil(t, probe.HTTPGet, where)
		require.Equal(t, path, probe.HTTPGet.Path, where)
		require.Equal(t, port, containerPort(t, where, c, probe.HTTPGet.Port.String()), "%s: %s probe port", where, path)
	}
	if ann := dep.Spec.Template.Annotations; ann["prometheus.io/scrape"] == "true" {
		require.Equal(t, port, ann["prometheus.io/port"], "%s: scrape annotation port", where)
		require.Equal(t, "/metrics", ann["prometheus.io/path"], where)
	}

	needs := map[string]string{"worker": "WXACODE_APPS_FILE", "dashboard": "WXACODE_APPS_FILE", "scheduler": "WXACODE_CAMPAIGNS_FILE"}
	require.NotEmpty(t, env[needs[cmd.name]], "%s: no %s", where, needs[cmd.name])
	files := mountedFiles(t, where, dep.Spec.Template.Spec, c)
	for k, key := range map[string]string{"WXACODE_APPS_FILE": "apps.yaml", "WXACODE_CAMPAIGNS_FILE": "campaigns.yaml"} {
		if p, ok := env[k]; ok {
			require.Equal(t, "configmap/wxacode-config/"+key, files[p], "%s: %s=%s is not the ConfigMap's %s", where, k, p, key)
		}
	}
	if cmd.name == "worker" {
		checkWorkerPod(t, where, dep, env, files)
	}
}

// checkWorkerPod checks the worker's shutdown budget, its scrape
// annotations and that each app secret reaches /run/secrets.
func checkWorkerPod(t *testing.T, where string, dep *appsv1.Deployment, env, files map[string]string) {
	t.Helper()
	pod := dep.Spec.Template.Spec
	require.NotNil(t, pod.TerminationGracePeriodSeconds)
	grace := *pod.TerminationGracePeriodSeconds
	timeout := shutdownTimeout(t, env)
	require.Greater(t, grace, int64(timeout.Seconds())+10, "%s: terminationGracePeriodSeconds must exceed --shutdown-timeout (%s) with a margin", where, timeout)
	require.Equal(t, "true", dep.Spec.Template.Annotations["prometheus.io/scrape"], where)

	secrets := k8sObjects(t).secret(t, "wxacode-app-secrets")
	for dir := range secretDirs(t) {
		vol, ok := strings.CutPrefix(files[dir], "emptydir/")
		require.True(t, ok, "%s: %s is not a memory-backed emptyDir filled by the init container", where, dir)
		var copier *corev1.Container
		for i, ic := range pod.InitContainers {
			for _, m := range ic.VolumeMounts {
				if m.Name == vol && m.MountPath == dir {
					copier = &pod.InitContainers[i]
				}
			}
		}
		require.NotNil(t, copier, "%s: no init container fills %s", where, dir)
		from := ""
		for path, ref := range mountedFiles(t, where+" init", pod, *copier) {
			if strings.HasPrefix(ref, "secret/"+secrets.Name+"/") {
				from = filepath.Dir(path)
			}
		}
		script := strings.Join(append(copier.Command, copier.Args...), " ")
		require.Contains(t, script, from+"/*", "%s: the init container copies from the Secret", where)
		require.Contains(t, script, "chmod 0400", "%s: secret files must be private", where)
		require.Contains(t, script, dir, where)
	}
	for _, v := range pod.Volumes {
		if v.EmptyDir != nil {
			require.Equal(t, corev1.StorageMediumMemory, v.EmptyDir.Medium, "%s: secrets stay off disk", where)
		}
		if v.Secret != nil {
			require.NotNil(t, v.Secret.DefaultMode)
			require.Zero(t, *v.Secret.DefaultMode&0o007, "%s: secret volume readable by others", where)
		}
	}
	for _, a := range exampleApps(t) {
		_, ok := secrets.StringData[filepath.Base(a.SecretFile)]
		require.True(t, ok, "%s: Secret %s has no key for %s", where, secrets.Name, a.AppID)
	}
}

func TestKubernetesObjects(t *testing.T) {
	s := k8sObjects(t)
	worker := s.deployment(t, "wxacode-worker")

	svc := s.service(t, "wxacode-dashboard")
	dash := s.deployment(t, "wxacode-dashboard")
	podLabelsMatch(t, "Service wxacode-dashboard", &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, dash)
	for _, p := range svc.Spec.Ports {
		c := dash.Spec.Template.Spec.Containers[0]
		require.Equal(t, itoa(c.Ports[0].ContainerPort), containerPort(t, "Service wxacode-dashboard", c, p.TargetPort.String()))
	}

	require.Len(t, s.pdbs, 1)
	podLabelsMatch(t, "PodDisruptionBudget", s.pdbs[0].Spec.Selector, worker)
	require.NotNil(t, s.pdbs[0].Spec.MinAvailable)

	cfg := s.configMap(t, "wxacode-config")
	require.Equal(t, string(readFile(t, "examples/apps.yaml")), cfg.Data["apps.yaml"], "the ConfigMap embeds examples/apps.yaml byte for byte")
	require.Equal(t, string(readFile(t, "examples/campaigns.yaml")), cfg.Data["campaigns.yaml"], "the ConfigMap embeds examples/campaigns.yaml byte for byte")

	for _, sec := range s.secrets {
		require.Empty(t, sec.Data, "Secret %s: placeholders in stringData only", sec.Name)
		for k, v := range sec.StringData {
			require.Contains(t, v, "REPLACE", "Secret %s key %s: placeholders only, never a value", sec.Name, k)
		}
	}

	require.Len(t, s.namespaces, 1)
	require.Equal(t, k8sNamespace(t), s.namespaces[0].Name)
	require.Equal(t, "restricted", s.namespaces[0].Labels["pod-security.kubernetes.io/enforce"])
}

func TestKubernetesAutoscaling(t *testing.T) {
	s := k8sObjects(t)
	require.Len(t, s.hpas, 1)
	hpa := s.hpas[0]
	require.Equal(t, k8sNamespace(t), hpa.Namespace, "autoscaling/ is applied without kustomize")
	ref := hpa.Spec.ScaleTargetRef
	require.Equal(t, autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "wxacode-worker"}, ref)
	require.NotNil(t, hpa.Spec.MinReplicas)
	require.Less(t, *hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
	require.Len(t, hpa.Spec.Metrics, 1)
	ext := hpa.Spec.Metrics[0].External
	require.NotNil(t, ext, "the HPA scales on an external metric")

	require.NotNil(t, s.adapter, "kubernetes/autoscaling: no prometheus-adapter-values.yaml")
	var rule string
	for _, r := range s.adapter.Rules.External {
		checkExpr(t, "prometheus-adapter seriesQuery", r.SeriesQuery)
		checkExpr(t, "prometheus-adapter "+r.Name.As, r.MetricsQuery)
		if r.Name.As == ext.Metric.Name {
			rule = r.MetricsQuery
		}
	}
	require.NotEmpty(t, rule, "the HPA's metric %s has no prometheus-adapter rule", ext.Metric.Name)

	require.Len(t, s.scaledObjects, 1)
	so := s.scaledObjects[0]
	require.Equal(t, "ScaledObject", so.Kind)
	require.Equal(t, k8sNamespace(t), so.Metadata.Namespace)
	require.Equal(t, "wxacode-worker", so.Spec.ScaleTargetRef.Name)
	require.Equal(t, "Deployment", so.Spec.ScaleTargetRef.Kind)
	require.Less(t, *so.Spec.MinReplicaCount, *so.Spec.MaxReplicaCount)
	require.Len(t, so.Spec.Triggers, 1)
	trig := so.Spec.Triggers[0]
	require.Equal(t, "prometheus", trig.Type)
	require.NotEmpty(t, trig.Metadata["serverAddress"])
	require.NotEmpty(t, trig.Metadata["threshold"])
	checkExpr(t, "KEDA query", trig.Metadata["query"])
	// Same rule both ways, the KEDA one with its namespace spelled out.
	require.Equal(t, strings.ReplaceAll(rule, ",<<.LabelMatchers>>", ""),
		strings.ReplaceAll(trig.Metadata["query"], `namespace="`+k8sNamespace(t)+`",`, ""))
}

func TestKustomization(t *testing.T) {
	s := k8sObjects(t)
	k := s.kustomization
	require.NotNil(t, k)
	var listed []string
	for _, r := range k.Resources {
		require.FileExists(t, filepath.Join(k8sDir, r))
		listed = append(listed, r)
	}
	for f := range s.baseDocs {
		require.True(t, slices.Contains(listed, f), "kustomization.yaml does not list %s", f)
	}
	require.Len(t, k.Images, 1)
	name, tag, _ := strings.Cut(imageRef(t), ":")
	require.Equal(t, name, k.Images[0].Name)
	require.Equal(t, tag, k.Images[0].NewTag)

	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Log("kubectl not found: kustomization.yaml checked by its resources, not rendered")
		return
	}
	out, err := exec.Command(kubectl, "kustomize", k8sDir).Output()
	require.NoError(t, err, "kubectl kustomize")
	rendered := &k8sSet{deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	n := 0
	for _, doc := range docSep.Split(string(out), -1) {
		if hasContent(doc) {
			rendered.add(t, "kubectl kustomize", []byte(doc))
			n++
		}
	}
	want := 0
	for _, c := range s.baseDocs {
		want += c
	}
	require.Equal(t, want, n, "kubectl kustomize renders every base object")
	for _, d := range rendered.deployments {
		require.Equal(t, k.Namespace, d.Namespace)
		require.Equal(t, imageRef(t), d.Spec.Template.Spec.Containers[0].Image)
	}
}
