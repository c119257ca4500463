import { createApp } from 'vue'
import { ElMessage } from 'element-plus'
import 'element-plus/dist/index.css'
import './styles/main.css'
import AuthGate from './auth/AuthGate.vue'

// Element Plus is not installed as a plugin: each component imports the parts it uses, so the
// bundle holds only those (about half of the library); AuthGate.vue provides the Chinese locale.
// The gate shows the sign-in form until the server knows the user, then App.vue.
const app = createApp(AuthGate)

// A bug in one component must not leave the user with a blank page or a silent failure: log it for
// the developer and tell the user in Chinese; the rest of the page keeps working.
app.config.errorHandler = (err, _instance, info) => {
  console.error('[opsbrain]', info, err)
  ElMessage.error(`页面出错：${err instanceof Error ? err.message : String(err)}，请刷新后重试`)
}

app.mount('#app')
